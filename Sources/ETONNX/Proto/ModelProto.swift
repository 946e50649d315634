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
}

/// TensorProto.DataType values we read.
public enum ONNXDataType: Int64 {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, float16 = 10, double = 11
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
            case .int8:
                try check(1, raw.count, what: "byte")
                return raw.map { Int64(Int8(bitPattern: $0)) }
            default: break
            }
        } else {
            switch t {
            case .int64: try check(8, int64Data.count, what: "int64"); return int64Data
            case .int32, .uint8, .int8, .bool: try check(4, int32Data.count, what: "int32"); return int32Data
            default: break
            }
        }
        throw ONNXError("tensor '\(name)' has data type \(dataType), which is not supported here (float, double, int8/32/64, uint8, bool are)")
    }

    /// True for element types that become float tensors in the engine.
    public var isFloatingPoint: Bool {
        dataType == ONNXDataType.float.rawValue || dataType == ONNXDataType.double.rawValue
    }
}
