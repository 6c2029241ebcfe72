#!/usr/bin/env python3
"""Summarizes the JSON written by tinyelf_bench --benchmark_out as Markdown tables.

Usage: scripts/bench_table.py build/bench.json

Every case keeps its best repetition: on a shared machine noise only ever adds time, so the
minimum is the most repeatable estimate of the work itself. Cases that run in the benchmark thread
alone (tinyelf, raw AsmJit) are timed by that thread's CPU time: they do no I/O, so it is their
wall-clock time minus the time other processes held the core. Cases registered with UseRealTime
(those that start processes, write files or run threads) are timed by the wall clock.
"""
import json
import re
import sys

# The speed-up target over nasm + ld is judged on times: its margin dwarfs the noise. The ratio
# targets against raw AsmJit are judged on instruction counts (bench_instructions.py), which do not
# move with the machine's load.
NASM_SPEEDUP_TARGET = 10_000  # nasm + ld / tinyelf, per small executable
# tinyelf's time to a runnable executable against every peer that produces one: at least this many
# times faster on the small programs, and at 10^5 instructions.
PEER_SMALL_SPEEDUP_TARGET = 10
PEER_LARGE_SPEEDUP_TARGET = 3

# The peers (bench/peers.hpp), in table order: benchmark family, label, whether it is a whole
# toolchain producing an executable (the speed-up targets apply) or an encoder given the minimal
# ELF writer of bench/minimal_elf.hpp.
PEERS = [
    ("asmjit", "AsmJit alone + minimal ELF writer", False),
    ("xbyak", "Xbyak 6.68 + minimal ELF writer", False),
    ("zydis", "Zydis 4.0 encoder + minimal ELF writer", False),
    ("llvm_mc", "LLVM 14 MC (MCStreamer, in process) + ld.lld", True),
    ("tcc", "libtcc 0.9.27, C, tcc_output_file", True),
    ("nasm_ld", "nasm + ld", True),
    ("gcc_O0", "gcc -O0 + ld, C", True),
    ("gcc_O2", "gcc -O2 + ld, C", True),
]
PEER_WORKLOADS = [("exit42", 5), ("hello", 11), ("loop", 12), ("large/10000", 10_000), ("large/100000", 100_000),
                  ("large/1000000", 1_000_000)]

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
LARGE_SIZES = [10_000, 100_000, 1_000_000, 10_000_000]


def case_name(run_name):
    """'tinyelf/large/10000000/iterations:1' -> 'tinyelf/large/10000000'."""
    return "/".join(part for part in run_name.split("/") if not re.fullmatch(r"iterations:\d+|real_time", part))


def load(path):
    """Maps each case to its repetitions: (ns per iteration, counters) pairs."""
    with open(path, encoding="utf-8") as file:
        report = json.load(file)
    cases, errors = {}, {}
    for run in report["benchmarks"]:
        if run.get("run_type") == "aggregate":
            continue
        name = case_name(run.get("run_name", run["name"]))
        if run.get("error_occurred"):
            errors[name] = run.get("error_message", "failed")
            continue
        wall_clock = "/real_time" in run.get("run_name", run["name"])
        ns = run["real_time" if wall_clock else "cpu_time"] * NS_PER_UNIT[run["time_unit"]]
        cases.setdefault(name, []).append((ns, run))
    return report.get("context", {}), cases, errors


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def format_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def format_count(value):
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}"
    return f"{value:.3g}"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_table.py BENCH_JSON")
    context, cases, errors = load(sys.argv[1])

    def best(name):
        runs = cases.get(name)
        return min(runs, key=lambda run: run[0]) if runs else None

    def time_of(name):
        run = best(name)
        return run[0] if run else None

    def cell(name):
        if name in errors:
            return f"failed: {errors[name]}"
        value = time_of(name)
        return format_time(value) if value is not None else "—"

    def ratio(ours, theirs):
        a, b = time_of(ours), time_of(theirs)
        return a / b if a is not None and b is not None else None

    repetitions = max((len(runs) for runs in cases.values()), default=0)
    print(f"\n{cpu_model()}, {context.get('num_cpus', '?')} CPUs, {context.get('date', '')}. Best of "
          f"{repetitions} randomly interleaved repetitions; time per executable (CPU time of the "
          f"benchmark thread for tinyelf and raw AsmJit, wall-clock time for nasm + ld).\n")
    print("| case | tinyelf | raw AsmJit | ratio | nasm + ld | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    checks = []
    for program in ("exit42", "hello"):
        for packing, case in (("", program), (", pack = false", f"{program}-unpacked")):
            for variant, label in (("fresh", "new Program"), ("reset", "reused Program (reset)")):
                ours, raw, nasm = f"tinyelf/{case}/{variant}", f"raw_asmjit/{program}/{variant}", f"nasm_ld/{program}"
                r = ratio(ours, raw)
                speedup = ratio(nasm, ours)
                print(f"| {program}{packing}, {label} | {cell(ours)} | {cell(raw)} | "
                      f"{f'{r:.2f}' if r else '—'} | {cell(nasm)} | {f'{speedup:,.0f}×' if speedup else '—'} |")
                if variant == "fresh" and speedup:
                    checks.append((f"{program}{packing}: speed-up over nasm + ld {speedup:,.0f}× ≥ "
                                   f"{NASM_SPEEDUP_TARGET:,}×", speedup >= NASM_SPEEDUP_TARGET))
    for size in LARGE_SIZES:
        ours, raw = f"tinyelf/large/{size}", f"raw_asmjit/large/{size}"
        r = ratio(ours, raw)
        print(f"| {size:,} mixed instructions | {cell(ours)} | {cell(raw)} | {f'{r:.2f}' if r else '—'} "
              f"| not run (small executables only) | — |")
    for case, label in (("large-compact", "Layout::kCompact"), ("large-unpacked", "pack = false")):
        ours = f"tinyelf/{case}/1000000"
        r = ratio(ours, "raw_asmjit/large/1000000")
        print(f"| 1,000,000 mixed instructions, {label} | {cell(ours)} | {cell('raw_asmjit/large/1000000')} | "
              f"{f'{r:.2f}' if r else '—'} | not run | — |")

    print("\nLarge programs, tinyelf throughput (new Program → emit → link → bytes):\n")
    print("| instructions | instructions/s | output MB/s | file size |")
    print("|---:|---:|---:|---:|")
    for size in LARGE_SIZES:
        run = best(f"tinyelf/large/{size}")
        if run:
            ns, counters = run
            file_bytes = counters.get("file_bytes", 0)
            print(f"| {size:,} | {format_count(size / ns * 1e9)} | {file_bytes / ns * 1e3:.0f} | "
                  f"{file_bytes / 1e6:.2f} MB |")

    print("\nAfter link(), per executable:\n")
    print("| step | time |")
    print("|---|---:|")
    write = best("tinyelf/write/exit42")
    file_system = f" ({write[1].get('label')})" if write and write[1].get("label") else ""
    print(f"| Image::write exit42 (temporary file, fsync, rename){file_system} | {cell('tinyelf/write/exit42')} |")
    print(f"| Image::write exit42, Durability::kUnsynced (no fsync) | {cell('tinyelf/write/exit42-unsynced')} |")
    print(f"| tinyelf::run exit42 (memfd, vfork, fexecve, wait) | {cell('tinyelf/run/exit42')} |")
    print(f"| tinyelf::run hello (same, stdout captured) | {cell('tinyelf/run/hello')} |")
    print(f"| tinyelf::run exit42 from a caller holding 256 MiB | {cell('tinyelf/run/exit42-256MiB-caller')} |")

    one, two = best("tinyelf/large_threads/100000/threads:1"), best("tinyelf/large_threads/100000/threads:2")
    if one and two:
        # Google Benchmark reports a threaded case's wall time per iteration over all threads
        # together, so it is the wall time per program in both rows; its CPU time is summed over
        # the threads, so it is the CPU time per program: equal CPU time per program with 2 threads
        # means no time is lost to contention, whatever the other load on the machine.
        rate_one, rate_two = 100_000 / one[0] * 1e9, 100_000 / two[0] * 1e9
        cpu_one = one[1]["cpu_time"] * NS_PER_UNIT[one[1]["time_unit"]]
        cpu_two = two[1]["cpu_time"] * NS_PER_UNIT[two[1]["time_unit"]]
        print(f"\nThreads (100,000 instructions, one Program per thread): 1 thread {format_count(rate_one)} "
              f"instructions/s, 2 threads {format_count(rate_two)} instructions/s ({rate_two / rate_one:.2f}×); "
              f"CPU time per program {format_time(cpu_one)} and {format_time(cpu_two)}.")

    print_peers(cases, errors, best, cell, checks)

    print()
    for emitter in ("tinyelf", "raw_asmjit"):
        runs = cases.get(f"memory/{emitter}/large/10000000")
        if runs:
            peak = max(run[1]["peak_rss_bytes"] for run in runs)
            print(f"Peak resident memory, 10,000,000 instructions, {emitter.replace('_', ' ')}: "
                  f"{peak / 2**20:.0f} MiB, {peak / 10_000_000:.1f} bytes per instruction.")

    print()
    for text, met in checks:
        print(f"target {'met' if met else 'MISSED'}: {text}")
    for name, message in sorted(errors.items()):
        print(f"not measured: {name}: {message}")


def format_bytes(value):
    if value >= 2**20:
        return f"{value / 2**20:.3g} MiB"
    if value >= 2**10:
        return f"{value / 2**10:.0f} KiB"
    return f"{value:.0f} B"


def print_peers(cases, errors, best, cell, checks):
    """One row per program and way of making it: time, ns per instruction, file size, peak memory."""
    print("\nEvery way of making the same executable (bench/peers.hpp): time per executable (CPU time of "
          "the benchmark thread for tinyelf and the encoders, wall-clock time for the peers that start "
          "processes or write files), ns per instruction of the program, output file size, peak "
          "resident memory of one build in a fresh process (the tools' own peak for those that start "
          "processes), and the time over tinyelf's:\n")
    print("| program | maker | time | ns/instruction | file bytes | peak memory | ÷ tinyelf |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for workload, instructions in PEER_WORKLOADS:
        program = workload.replace("large/", "") if workload.startswith("large/") else workload
        program = f"{int(program):,} mixed" if program.isdigit() else program
        ours = f"tinyelf/{workload}/fresh" if not workload.startswith("large/") else f"tinyelf/{workload}"
        ours_run = best(ours)
        for family, label, toolchain in [("tinyelf", "tinyelf (AsmJit + link())", False)] + PEERS:
            name = ours if family == "tinyelf" else f"{family}/{workload}"
            if name not in cases and name not in errors:
                continue  # a peer that does not build this program (processes: small ones only)
            run = best(name)
            memory = cases.get(f"memory/{family}/{workload}")
            peak = format_bytes(max(r[1]["peak_rss_bytes"] for r in memory)) if memory else "—"
            if run is None:
                print(f"| {program} | {label} | {cell(name)} | | | {peak} | |")
                continue
            ns, counters = run
            faster = ""
            if family != "tinyelf" and ours_run:
                speedup = ns / ours_run[0]
                faster = f"{speedup:.2f}" if speedup < 10 else f"{speedup:,.0f}"
                target = (PEER_SMALL_SPEEDUP_TARGET if instructions < 10_000
                          else PEER_LARGE_SPEEDUP_TARGET if instructions == 100_000 else None)
                if toolchain and target:
                    checks.append((f"{program}: tinyelf {speedup:,.1f}× faster than {label} ≥ {target}×",
                                   speedup >= target))
            print(f"| {program} | {label} | {format_time(ns)} | {ns / instructions:,.0f} | "
                  f"{counters.get('file_bytes', 0):,.0f} | {peak} | {faster} |")


if __name__ == "__main__":
    main()
