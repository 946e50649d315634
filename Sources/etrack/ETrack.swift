import ArgumentParser

@main
struct ETrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrack",
        abstract: "EfficientTrack: real-time single-object tracking on CPUs.",
        version: "0.1.0",
        subcommands: [Track.self, Eval.self, BenchKernels.self])
}
