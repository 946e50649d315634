import ArgumentParser

/// `etrack bench-kernels`: GEMM / convolution throughput against the machine's peak.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-kernels", abstract: "Measure kernel throughput (GFLOP/s).")
}
