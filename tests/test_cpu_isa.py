"""The CPU's oneDNN instruction set as the series reports it (d2lcnn.machine.cpu_isa), and the
native-form benchmark's table of two instruction sets (benchmarks.native)."""

import pytest

from d2lcnn.machine import cpu_isa

AVX512 = frozenset({"sse4_1", "avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"})
AVX2_ONLY = frozenset({"sse4_1", "avx", "avx2"})


@pytest.mark.parametrize("flags, cap, expected", [
    (AVX512, "", "AVX-512"),
    (AVX512, "ALL", "AVX-512"),
    (AVX512, "AVX2", "AVX2"),
    (AVX512, "AVX512_CORE_AMX", "AVX-512"),  # above AVX-512: float32 gains nothing more
    (AVX512, "AVX2_VNNI", "AVX2"),
    (AVX512, "SSE41", "SSE4.1"),
    (AVX2_ONLY, "", "AVX2"),
    (AVX2_ONLY, "AVX512_CORE", "AVX2"),  # a cap above the CPU changes nothing
    (frozenset({"avx512f", "avx2", "avx", "sse4_1"}), "", "AVX2"),  # AVX-512 needs all four
    (frozenset(), "", None),  # flags unknown
])
def test_onednn_isa(flags, cap, expected):
    assert cpu_isa.onednn_isa(flags, cap) == expected


@pytest.mark.parametrize("cap, words", [
    ("avx2", ["avx2", "capitals: AVX2"]),
    ("AVX3", ["AVX3", "SSE41, AVX, AVX2, AVX512_CORE"]),
])
def test_a_cap_onednn_would_ignore_is_an_error(cap, words):
    with pytest.raises(ValueError) as err:
        cpu_isa.onednn_isa(AVX512, cap)
    assert all(w in str(err.value) for w in words)


def test_describe_cpu_names_the_cap(monkeypatch):
    monkeypatch.setattr(cpu_isa, "cpu_flags", lambda: AVX512)
    monkeypatch.setattr(cpu_isa, "cpu_model", lambda: "Some CPU")
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert cpu_isa.describe_cpu() == "Some CPU, AVX-512"
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX2")
    assert cpu_isa.describe_cpu() == "Some CPU, AVX2 (DNNL_MAX_CPU_ISA=AVX2)"
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE")  # no cap in effect: not said
    assert cpu_isa.describe_cpu() == "Some CPU, AVX-512"


@pytest.mark.parametrize("text, expected", [
    ("AMD EPYC, AVX2 (DNNL_MAX_CPU_ISA=AVX2)", "AVX2"),
    ("Intel(R) Xeon(R), AVX-512", "AVX-512"),
    ("", None),
])
def test_isa_named_in(text, expected):
    assert cpu_isa.isa_named_in(text) == expected


def _row(key, isa, seed, minutes, acc):
    return {"key": key, "network": key.title(), "form": "native", "input": "28×28",
            "params": 1000, "macs": 2e6, "epochs": 5, "seed": seed, "isa": isa, "cpu": "",
            "minutes": minutes, "examples_per_sec": 1000.0, "test_acc": acc,
            "book_test_acc": 0.9, "book_examples_per_sec": 2000}


def test_native_table_has_a_column_group_per_isa_and_their_ratio():
    from benchmarks import native

    rows = [_row("resnet", "AVX-512", 0, 6.0, 0.93), _row("resnet", "AVX2", 0, 9.0, 0.93),
            _row("resnet", "AVX2", 1, 9.1, 0.89), _row("nin", "AVX2", 0, 11.0, 0.91)]
    text = native.table(rows)
    head, _, resnet, nin = text.splitlines()
    assert head.index("AVX-512: wall time") < head.index("AVX2: wall time")
    assert "time AVX2 / AVX-512" in head
    assert "| 6.0 min |" in resnet and "| 9.0 min |" in resnet and "1.50×" in resnet
    assert "missed: time +1.0 min" in nin and "| – |" in nin
    seeds = native.seed_table(rows)
    assert "0: 0.930, 1: 0.890" in seeds and "| no |" in seeds  # seed 1 below the book's 0.9


def test_native_results_say_how_each_row_was_measured():
    from benchmarks import native

    both = native.fresh_how(["best", "AVX2"])
    assert "under the CPU's best instruction set and under `DNNL_MAX_CPU_ISA=AVX2`" in both
    seeds = native.fresh_how(["AVX2"], "python -m benchmarks.native vgg --isa AVX2 --seeds 1,2")
    assert "`python -m benchmarks.native vgg --isa AVX2 --seeds 1,2`" in seeds
    assert "best instruction set" not in seeds
    assert "--from-results notebooks/results/reference" in native.saved_how(
        "notebooks/results/reference")
    folder = "notebooks/results/reference"
    rows = [{"source": "saved", "folder": folder}, {"how": both}, {"how": seeds}, {"how": seeds}]
    text = native.how_of(rows)
    assert text.startswith(native.saved_how(folder))
    assert f"The other rows: {both} {seeds}" in text and text.count(seeds) == 1
