import ETCore

extension SafeTensors {
    /// Checks that the tensors are exactly the expected ones: every expected name present with
    /// its shape, and nothing else.
    ///
    /// All problems are listed in one error (missing tensors, shape mismatches, unexpected
    /// tensors, in the expected order), e.g.
    /// `w.safetensors: does not fit et-128-fgaf3-bn: tensor 'head.score.weight': expected shape [1, 64, 3, 3], found [1, 32, 3, 3]`.
    /// - Parameters:
    ///   - expected: (name, shape) pairs, typically a model's parameter table.
    ///   - configuration: named in the message, e.g. the model configuration.
    ///   - allowUnexpected: accept extra tensors (e.g. optimiser state) instead of failing.
    /// - Throws: `WeightsError` starting with `source`.
    public func check(against expected: [(name: String, shape: [Int])], configuration: String,
                      allowUnexpected: Bool = false) throws {
        var problems: [String] = []
        var wanted = Set<String>()
        for (name, shape) in expected {
            wanted.insert(name)
            guard let t = tensors[name] else {
                problems.append("missing tensor '\(name)' (expected shape \(shape))")
                continue
            }
            if t.shape != shape { problems.append("tensor '\(name)': expected shape \(shape), found \(t.shape)") }
        }
        if !allowUnexpected {
            for name in names where !wanted.contains(name) {
                problems.append("unexpected tensor '\(name)' (shape \(tensors[name]!.shape))")
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(20).joined(separator: "; ")
            let more = problems.count > 20 ? "; and \(problems.count - 20) more" : ""
            throw WeightsError("\(source): does not fit \(configuration): \(shown)\(more)")
        }
    }
}
