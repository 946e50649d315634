import ArgumentParser
import ETCore
import Foundation

/// `etrack bench-kernels`: GEMM / convolution throughput against the machine's peak.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure kernel throughput (GFLOP/s).",
        discussion: "Prints the median time of each GEMM and NanoTrack convolution shape, its GFLOP/s and the % of the 102 GFLOP/s one-core peak. Build in release.")

    @Option(name: .long, help: "Threads (1 or 2 on the project machine).")
    var threads: Int = 1

    @Option(name: .long, help: "Which kernels: all, gemm or conv.")
    var only: String = "all"

    @Option(name: .long, help: "Only shapes whose name contains this text (e.g. 'dw5x5').")
    var filter: String = ""

    @Option(name: .long, help: "Kernel family: auto (AVX-512 where the CPU has it), avx2 or portable.")
    var isa: String = "auto"

    @Option(name: .long, help: "Minimum seconds of timing per shape.")
    var seconds: Double = 0.05

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard ["all", "gemm", "conv"].contains(only) else {
            throw ValidationError("--only must be all, gemm or conv, got '\(only)'")
        }
        guard ["auto", "avx2", "portable"].contains(isa) else {
            throw ValidationError("--isa must be auto, avx2 or portable, got '\(isa)'")
        }
        guard seconds > 0 && seconds <= 10 else { throw ValidationError("--seconds must be in (0, 10], got \(seconds)") }
    }

    func run() throws {
        let pool = ThreadPool(threads: threads)
        if isa == "avx2" { Kernels.useAVX2Kernels(true) }
        if isa == "portable" { Kernels.usePortableKernels(true) }
        print("kernels \(Kernels.instructionSet); threads \(threads); peak \(KernelBenchmark.peakGFLOPS) GFLOP/s per core")
        print(String(format: "%-34@ %10@ %9@ %7@", "kernel" as NSString, "median µs" as NSString, "GFLOP/s" as NSString, "% peak" as NSString))
        var results: [KernelBenchmark.Result] = []
        if only != "conv" { results += KernelBenchmark.runGEMM(pool: pool, minSeconds: seconds, matching: filter) }
        if only != "gemm" { results += KernelBenchmark.runConv(pool: pool, minSeconds: seconds, matching: filter) }
        for r in results {
            print(String(format: "%-34@ %10.1f %9.1f %6.1f%%", r.name as NSString, r.medianMicroseconds, r.gflops, r.percentOfPeak))
        }
    }
}
