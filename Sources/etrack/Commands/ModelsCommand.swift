import ArgumentParser

/// `etrack models`: the built-in model configurations (owned by the ETNN work).
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in model configurations.")
}

/// `etrack info NAME`: parameters and MACs of a configuration.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show parameters and MACs of a model configuration.")
}
