"""Recipes for the offline brain, one module per tool family; ``RECIPES`` collects them all."""

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep, fill
from climcopilot.agent.brains.offline.recipes.causal import RECIPES as CAUSAL_RECIPES
from climcopilot.agent.brains.offline.recipes.da import RECIPES as DA_RECIPES
from climcopilot.agent.brains.offline.recipes.data import RECIPES as DATA_RECIPES
from climcopilot.agent.brains.offline.recipes.emulators import RECIPES as EMULATOR_RECIPES
from climcopilot.agent.brains.offline.recipes.series import RECIPES as SERIES_RECIPES

RECIPES: tuple[Recipe, ...] = (*SERIES_RECIPES, *DATA_RECIPES, *DA_RECIPES,
                                *CAUSAL_RECIPES, *EMULATOR_RECIPES)

__all__ = ["RECIPES", "Recipe", "RecipeStep", "fill"]
