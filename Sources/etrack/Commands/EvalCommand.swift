import ArgumentParser

/// `etrack eval`: run, score and report benchmark evaluations (owned by the evaluation module).
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate trackers on benchmark datasets.")
}
