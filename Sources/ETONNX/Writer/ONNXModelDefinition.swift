import Foundation

/// The data of a tensor to be written: an initializer, or the value of a `Constant` node or a
/// tensor attribute. Float32 and int64 data are written as little-endian `raw_data`, the form
/// ONNX Runtime, OpenCV and `onnx.numpy_helper` read fastest.
public struct ONNXTensorValue: Equatable, Sendable {
    /// Element storage: the two types EfficientTrack's graphs need (weights and shapes/indices).
    public enum Storage: Equatable, Sendable {
        case float32([Float])
        case int64([Int64])
    }

    public var name: String
    /// Row-major dimensions; `[]` is a scalar.
    public var dims: [Int]
    public var storage: Storage

    /// - Precondition: `dims` holds `data.count` elements.
    public init(name: String = "", dims: [Int], floats data: [Float]) {
        precondition(dims.reduce(1, *) == data.count, "ONNXTensorValue '\(name)': dims \(dims) do not hold \(data.count) floats")
        self.name = name
        self.dims = dims
        self.storage = .float32(data)
    }

    /// - Precondition: `dims` holds `data.count` elements.
    public init(name: String = "", dims: [Int], int64s data: [Int64]) {
        precondition(dims.reduce(1, *) == data.count, "ONNXTensorValue '\(name)': dims \(dims) do not hold \(data.count) int64 values")
        self.name = name
        self.dims = dims
        self.storage = .int64(data)
    }

    /// ONNX `TensorProto.DataType` of the storage.
    public var dataType: ONNXDataType {
        switch storage { case .float32: return .float; case .int64: return .int64 }
    }

    var elementCount: Int {
        switch storage { case let .float32(v): return v.count; case let .int64(v): return v.count }
    }
}

/// The value of a node attribute. The case picks `AttributeProto.type` (FLOAT 1, INT 2,
/// STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8).
public enum ONNXAttributeValue: Equatable, Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(ONNXTensorValue)
    case floats([Float])
    case ints([Int64])
    case strings([String])
}

/// One node as written: op type, input and output value names, and attributes in the order given
/// (the order is kept in the file so that output is byte-for-byte reproducible).
public struct ONNXNodeDefinition: Equatable, Sendable {
    public var name: String
    public var opType: String
    /// "" for the default ai.onnx domain.
    public var domain: String
    /// Input value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [(name: String, value: ONNXAttributeValue)]

    public init(opType: String, name: String = "", domain: String = "", inputs: [String], outputs: [String],
                attributes: [(name: String, value: ONNXAttributeValue)] = []) {
        self.opType = opType
        self.name = name
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.opType == b.opType && a.domain == b.domain && a.inputs == b.inputs && a.outputs == b.outputs
            && a.attributes.map(\.name) == b.attributes.map(\.name) && a.attributes.map(\.value) == b.attributes.map(\.value)
    }
}

/// A declared graph input, output or intermediate (`ValueInfoProto` with a tensor type).
public struct ONNXValueDeclaration: Equatable {
    public var name: String
    public var elementType: ONNXDataType
    /// nil leaves the shape undeclared; `.symbol` dims name a free size (e.g. a batch "N").
    public var shape: [ONNXDimension]?

    public init(name: String, elementType: ONNXDataType = .float, shape: [ONNXDimension]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    /// A declaration with fixed sizes.
    public init(name: String, elementType: ONNXDataType = .float, dims: [Int]) {
        self.init(name: name, elementType: elementType, shape: dims.map { .value($0) })
    }
}

/// A graph as written (`GraphProto`): nodes in topological order, initializers, inputs,
/// outputs and optional intermediate shape annotations.
public struct ONNXGraphDefinition: Equatable {
    public var name: String
    public var nodes: [ONNXNodeDefinition] = []
    public var initializers: [ONNXTensorValue] = []
    /// Graph inputs fed at run time (initializers are not repeated here).
    public var inputs: [ONNXValueDeclaration] = []
    public var outputs: [ONNXValueDeclaration] = []
    /// Optional shapes of intermediate values (`value_info`).
    public var valueInfo: [ONNXValueDeclaration] = []

    public init(name: String) { self.name = name }
}

/// A whole ONNX model as written (`ModelProto`): IR version, opset imports, producer,
/// `metadata_props` and the graph.
///
/// ```swift
/// let bytes = try definition.serialized()         // or:
/// try definition.write(to: "model.onnx")          // atomic: temp file, then rename
/// ```
public struct ONNXModelDefinition: Equatable {
    /// `ir_version`; 8 by default (ONNX 1.13, the IR of opset 17/18).
    public var irVersion: Int64
    /// Imported opsets in file order as (domain, version); "" is ai.onnx.
    public var opsetImports: [(domain: String, version: Int64)]
    public var producerName: String
    public var producerVersion: String
    /// `metadata_props` key/value pairs, written in this order.
    public var metadata: [(key: String, value: String)]
    /// `doc_string` of the model; empty means absent.
    public var docString: String
    public var graph: ONNXGraphDefinition

    /// - Parameters:
    ///   - opset: version of the default ai.onnx opset (17 by default).
    ///   - irVersion: nil picks the IR version that introduced `opset` at the earliest
    ///     (8 up to opset 18, 9 for 19-20, 10 for 21-22), which every runtime that knows the
    ///     opset also reads.
    public init(graph: ONNXGraphDefinition, opset: Int = 17, irVersion: Int64? = nil,
                producerName: String = "EfficientTrack", producerVersion: String = "",
                metadata: [(key: String, value: String)] = [], docString: String = "") {
        self.graph = graph
        self.opsetImports = [(domain: "", version: Int64(opset))]
        self.irVersion = irVersion ?? Self.minimumIRVersion(opset: opset)
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.metadata = metadata
        self.docString = docString
    }

    /// The IR version released together with `opset` (ONNX's VERSION_TABLE), at least 8.
    public static func minimumIRVersion(opset: Int) -> Int64 {
        switch opset {
        case ...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }

    /// Version of the default (ai.onnx) opset, or nil when none is imported.
    public var opset: Int? {
        opsetImports.first(where: { $0.domain == "" || $0.domain == "ai.onnx" }).map { Int($0.version) }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.irVersion == b.irVersion && a.opsetImports.map(\.domain) == b.opsetImports.map(\.domain)
            && a.opsetImports.map(\.version) == b.opsetImports.map(\.version)
            && a.producerName == b.producerName && a.producerVersion == b.producerVersion
            && a.metadata.map(\.key) == b.metadata.map(\.key) && a.metadata.map(\.value) == b.metadata.map(\.value)
            && a.docString == b.docString && a.graph == b.graph
    }
}
