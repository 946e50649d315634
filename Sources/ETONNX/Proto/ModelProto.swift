/// The parts of an ONNX `ModelProto` EfficientTrack uses, decoded from the wire format.
/// Field numbers follow onnx.proto (ir_version 1, graph 7, opset_import 8, metadata_props 14, ...).
public struct ONNXModelProto {
    public var irVersion: Int64 = 0
    public var producerName = ""
    public var producerVersion = ""
    /// domain ("" = ai.onnx) → version
    public var opsets: [String: Int64] = [:]
    public var metadata: [String: String] = [:]
    public var graph = ONNXGraphProto()
}

public struct ONNXGraphProto {
    public var name = ""
    public var nodes: [ONNXNodeProto] = []
    public var initializers: [ONNXTensorProto] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
}

public struct ONNXNodeProto {
    public var name = ""
    public var opType = ""
    public var domain = ""
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var attributes: [String: ONNXAttribute] = [:]
}

public enum ONNXAttribute {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(ONNXTensorProto)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    case unsupported(type: Int64)
}

/// A dimension of a declared input/output: a number or a symbolic name.
public enum ONNXDimension: Equatable, CustomStringConvertible {
    case value(Int)
    case symbol(String)
    case unknown
    public var description: String {
        switch self { case let .value(v): return "\(v)"; case let .symbol(s): return s; case .unknown: return "?" }
    }
}

public struct ONNXValueInfo {
    public var name = ""
    public var elementType: Int64 = 0
    public var shape: [ONNXDimension]? = nil
    /// The `TypeProto` field when the value is not a tensor (4 sequence, 5 map, 8 sparse
    /// tensor, 9 optional); nil for tensors and undeclared types.
    public var nonTensorType: Int? = nil

    /// "sequence", "map", … for messages.
    var nonTensorKind: String? {
        nonTensorType.map { [4: "sequence", 5: "map", 8: "sparse tensor", 9: "optional"][$0] ?? "TypeProto field \($0)" }
    }
}

/// TensorProto.DataType values we read.
public enum ONNXDataType: Int64, CustomStringConvertible, Sendable {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, bool = 9, float16 = 10, double = 11, uint32 = 12

    /// Every `TensorProto.DataType` by number, for messages that name a type we do not read.
    static let allNames: [Int64: String] = [
        0: "undefined", 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool",
        10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
        17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
        24: "float8e8m0", 25: "uint2", 26: "int2",
    ]

    /// The name of any type number (known to ONNX or not).
    public static func describe(_ raw: Int64) -> String { allNames[raw] ?? "type \(raw)" }

    public var description: String { Self.describe(rawValue) }

    /// Integer and bool types: held as int64 values by the engine.
    public var isInteger: Bool { ![.float, .float16, .double].contains(self) }
}

/// A tensor stored in the file. Raw data stays in the mapped file until it is asked for.
public struct ONNXTensorProto {
    public var name = ""
    public var dims: [Int64] = []
    public var dataType: Int64 = 0
    var rawRange: Range<Int>? = nil
    var floatData: [Float] = []
    var int32Data: [Int64] = []   // int32_data is varint-encoded, read as int64
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var hasExternalData = false
    /// The file the raw bytes live in (kept alive by this reference).
    var file: MappedFile? = nil

    /// Element count, or -1 when the dims overflow (a corrupt file).
    public var elementCount: Int {
        var n = 1
        for d in dims {
            let (r, o) = n.multipliedReportingOverflow(by: Int(truncatingIfNeeded: d))
            if o || r > 1 << 40 { return -1 }
            n = r
        }
        return n
    }

    private func rawBytes() -> UnsafeRawBufferPointer? {
        guard let r = rawRange, let file else { return nil }
        return UnsafeRawBufferPointer(rebasing: file.bytes[r])
    }

    private func check(_ width: Int, _ count: Int, what: String) throws {
        if hasExternalData { throw ONNXError("tensor '\(name)' uses external data, which is not supported") }
        guard count == elementCount else {
            throw ONNXError("tensor '\(name)' holds \(count) \(what) values but its dims \(dims) need \(elementCount)")
        }
    }

    /// The values as Float (float, double, integer and bool tensors convert).
    public func floats() throws -> [Float] {
        if let raw = rawBytes() {
            switch ONNXDataType(rawValue: dataType) {
            case .float:
                try check(4, raw.count / 4, what: "float")
                guard raw.count % 4 == 0 else { throw ONNXError("tensor '\(name)': raw data size \(raw.count) is not a multiple of 4") }
                return (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .double:
                try check(8, raw.count / 8, what: "double")
                return (0..<(raw.count / 8)).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
            default:
                return try int64s().map { Float($0) }
            }
        }
        switch ONNXDataType(rawValue: dataType) {
        case .float: try check(4, floatData.count, what: "float"); return floatData
        case .double: try check(8, doubleData.count, what: "double"); return doubleData.map { Float($0) }
        default: return try int64s().map { Float($0) }
        }
    }

    /// The values as Int64 (integer and bool tensors; float tensors are rejected).
    public func int64s() throws -> [Int64] {
        let t = ONNXDataType(rawValue: dataType)
        if let raw = rawBytes() {
            switch t {
            case .int64:
                try check(8, raw.count / 8, what: "int64")
                return (0..<(raw.count / 8)).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .int32:
                try check(4, raw.count / 4, what: "int32")
                return (0..<(raw.count / 4)).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .uint8, .bool:
                try check(1, raw.count, what: "byte")
                return raw.map { Int64($0) }
            case .int16, .uint16:
                try check(2, raw.count / 2, what: "16-bit")
                return (0..<(raw.count / 2)).map { i -> Int64 in
                    let u = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                    return t == .int16 ? Int64(Int16(bitPattern: u)) : Int64(u)
                }
            case .uint32:
                try check(4, raw.count / 4, what: "uint32")
                return (0..<(raw.count / 4)).map { Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .int8:
                try check(1, raw.count, what: "byte")
                return raw.map { Int64(Int8(bitPattern: $0)) }
            default: break
            }
        } else {
            switch t {
            case .int64: try check(8, int64Data.count, what: "int64"); return int64Data
            case .int32, .uint8, .int8, .bool, .int16, .uint16: try check(4, int32Data.count, what: "int32"); return int32Data
            default: break
            }
        }
        throw ONNXError("tensor '\(name)' has element type \(ONNXDataType.describe(dataType)), which is not supported here (float32/64, int8/16/32/64, uint8/16/32, bool are)")
    }

    /// True for element types that become float tensors in the engine.
    public var isFloatingPoint: Bool {
        dataType == ONNXDataType.float.rawValue || dataType == ONNXDataType.double.rawValue
    }
}
