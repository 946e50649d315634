import ArgumentParser

/// `etrack export NAME|WEIGHTS --output model.onnx` (owned by the ONNX writer work).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export a model configuration or weights file to ONNX.")
}
