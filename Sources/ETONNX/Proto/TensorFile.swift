import ETCore
import Foundation

/// Tensors in files that say their own type and shape: NumPy `.npy` and ONNX `TensorProto`
/// `.pb` (the form of the ONNX backend tests' `input_N.pb`/`output_N.pb`), plus raw
/// little-endian float32 for older scripts. `etrack onnx run` reads and writes these.
///
/// Element types kept: float32 and float64 (as float32 storage, for float inputs), and the
/// integer types int8/16/32/64, uint8/16/32 and bool (as int64 storage). Anything else is
/// refused by name.
public enum TensorFile {
    public enum Format: String, CaseIterable, Sendable { case npy, pb, f32 }

    /// A tensor read from a file, with the element type it was stored as.
    public struct Loaded {
        public var value: ONNXTensorValue
        public var elementType: ONNXDataType
    }

    /// Reads a `.npy` or `.pb` file (chosen by extension; `.f32` needs `shape`).
    public static func read(path: String, shape: [Int]? = nil) throws -> Loaded {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw ONNXError("\(path): cannot read the file") }
        return try read(bytes: [UInt8](bytes), name: path, shape: shape)
    }

    /// Reads tensor bytes in the format `name`'s extension says; `name` is used in errors.
    public static func read(bytes data: [UInt8], name path: String, shape: [Int]? = nil) throws -> Loaded {
        let ext = (path).pathExtensionName.lowercased()
        do {
            switch ext {
            case "npy": return try readNPY(data)
            case "pb": return try readTensorProto(data, name: path)
            case "f32", "bin", "raw":
                guard let shape else { throw ONNXError("raw float32 needs a shape (FILE.f32:D1xD2x...)") }
                let n = shape.reduce(1, *)
                guard data.count == 4 * n else { throw ONNXError("\(data.count) bytes, but shape \(shape) needs \(4 * n)") }
                let f = (0..<n).map { i in Float(bitPattern: UInt32(data[4 * i]) | UInt32(data[4 * i + 1]) << 8 | UInt32(data[4 * i + 2]) << 16 | UInt32(data[4 * i + 3]) << 24) }
                return Loaded(value: ONNXTensorValue(dims: shape, floats: f), elementType: .float)
            default:
                throw ONNXError("unknown tensor file extension '.\(ext)' (.npy, .pb or .f32 are read)")
            }
        } catch let e as ONNXError where !e.message.hasPrefix(path) {
            throw ONNXError("\(path): \(e.message)")
        }
    }

    /// Writes a tensor as `elementType` (integer storage to an integer or bool type, float to float32).
    public static func write(_ value: ONNXTensorValue, as elementType: ONNXDataType, format: Format, to path: String) throws {
        let bytes: [UInt8]
        switch format {
        case .npy: bytes = try npyBytes(value, as: elementType)
        case .pb: bytes = try tensorProtoBytes(value, as: elementType)
        case .f32:
            guard case let .float32(f) = value.storage, elementType == .float else {
                throw ONNXError("\(path): raw .f32 holds float32 only; write \(elementType) tensors as .npy or .pb")
            }
            bytes = f.flatMap { v -> [UInt8] in let b = v.bitPattern; return [UInt8(b & 255), UInt8(b >> 8 & 255), UInt8(b >> 16 & 255), UInt8(b >> 24)] }
        }
        try AtomicFile.write(bytes, to: path)
    }

    // MARK: element types

    /// NumPy dtype string and width of each element type we write.
    static func numpyDescriptor(_ t: ONNXDataType) -> (String, Int)? {
        switch t {
        case .float: return ("<f4", 4)
        case .double: return ("<f8", 8)
        case .int64: return ("<i8", 8)
        case .int32: return ("<i4", 4)
        case .int16: return ("<i2", 2)
        case .int8: return ("|i1", 1)
        case .uint8: return ("|u1", 1)
        case .uint16: return ("<u2", 2)
        case .uint32: return ("<u4", 4)
        case .bool: return ("|b1", 1)
        case .float16: return nil
        }
    }

    static func littleEndianBytes(_ value: ONNXTensorValue, as t: ONNXDataType) throws -> [UInt8] {
        func le(_ v: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        switch (value.storage, t) {
        case let (.float32(f), .float): return f.flatMap { le(UInt64($0.bitPattern), 4) }
        case let (.float32(f), .double): return f.flatMap { le(Double($0).bitPattern, 8) }
        case let (.int64(v), _) where t != .float && t != .double && t != .float16:
            let width = numpyDescriptor(t)!.1
            return v.flatMap { le(UInt64(bitPattern: $0), width) }
        default:
            throw ONNXError("cannot write \(value.storage.kind) data as \(t)")
        }
    }

    // MARK: .npy

    static func npyBytes(_ value: ONNXTensorValue, as t: ONNXDataType) throws -> [UInt8] {
        guard let (descr, _) = numpyDescriptor(t) else { throw ONNXError("element type \(t) cannot be written as .npy") }
        let shape = value.dims.isEmpty ? "()" : value.dims.count == 1 ? "(\(value.dims[0]),)" : "(" + value.dims.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        return out + (try littleEndianBytes(value, as: t))
    }

    static func readNPY(_ d: [UInt8]) throws -> Loaded {
        guard d.count >= 10, d[0] == 0x93, Array(d[1..<6]) == Array("NUMPY".utf8) else { throw ONNXError("not a .npy file (bad magic)") }
        let major = d[6]
        let (headerLength, start): (Int, Int)
        switch major {
        case 1: (headerLength, start) = (Int(d[8]) | Int(d[9]) << 8, 10)
        case 2, 3:
            guard d.count >= 12 else { throw ONNXError("truncated .npy header") }
            (headerLength, start) = (Int(d[8]) | Int(d[9]) << 8 | Int(d[10]) << 16 | Int(d[11]) << 24, 12)
        default: throw ONNXError(".npy version \(major) is not supported")
        }
        guard start + headerLength <= d.count, let header = String(bytes: d[start..<(start + headerLength)], encoding: .utf8) else {
            throw ONNXError("truncated .npy header")
        }
        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let descrField = field("descr"), descrField.first == "'", let descrEnd = descrField.dropFirst().firstIndex(of: "'") else {
            throw ONNXError(".npy header has no 'descr'")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<descrEnd])
        guard let fortran = field("fortran_order") else { throw ONNXError(".npy header has no 'fortran_order'") }
        guard fortran.hasPrefix("False") else { throw ONNXError("Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray)") }
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw ONNXError(".npy header has no 'shape'")
        }
        let dims = try shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { s -> Int in
                guard let v = Int(s), v >= 0 else { throw ONNXError(".npy shape '\(s)' is not a dimension") }
                return v
            }
        let normalised = descr.replacingOccurrences(of: "=", with: "<")
        let types: [String: ONNXDataType] = ["<f4": .float, "<f8": .double, "<i8": .int64, "<i4": .int32, "<i2": .int16, "|i1": .int8,
                                             "|u1": .uint8, "<u2": .uint16, "<u4": .uint32, "|b1": .bool]
        guard let t = types[normalised] else {
            throw ONNXError(".npy dtype '\(descr)' is not supported (float32/64, int8/16/32/64, uint8/16/32, bool are)")
        }
        return Loaded(value: try decode(Array(d[(start + headerLength)...]), type: t, dims: dims), elementType: t)
    }

    /// Little-endian element bytes → storage.
    static func decode(_ body: [UInt8], type t: ONNXDataType, dims: [Int]) throws -> ONNXTensorValue {
        guard let (_, width) = numpyDescriptor(t) else { throw ONNXError("element type \(t) is not supported") }
        var n = 1
        for d in dims {
            let (r, o) = n.multipliedReportingOverflow(by: d)
            guard !o, r <= 1 << 36 else { throw ONNXError("shape \(dims) is too large") }
            n = r
        }
        guard body.count == n * width else { throw ONNXError("holds \(body.count) data bytes, but shape \(dims) of \(t) needs \(n * width)") }
        func u(_ i: Int) -> UInt64 { (0..<width).reduce(UInt64(0)) { $0 | UInt64(body[i * width + $1]) << (8 * UInt64($1)) } }
        switch t {
        case .float: return ONNXTensorValue(dims: dims, floats: (0..<n).map { Float(bitPattern: UInt32(u($0))) })
        case .double: return ONNXTensorValue(dims: dims, floats: (0..<n).map { Float(Double(bitPattern: u($0))) })
        case .int64: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { Int64(bitPattern: u($0)) })
        case .int32: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { Int64(Int32(truncatingIfNeeded: u($0))) })
        case .int16: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { Int64(Int16(truncatingIfNeeded: u($0))) })
        case .int8: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { Int64(Int8(truncatingIfNeeded: u($0))) })
        case .uint8, .uint16, .uint32: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { Int64(u($0)) })
        case .bool: return ONNXTensorValue(dims: dims, int64s: (0..<n).map { u($0) != 0 ? 1 : 0 })
        case .float16: throw ONNXError("float16 is not supported")
        }
    }

    // MARK: .pb (TensorProto)

    static func readTensorProto(_ d: [UInt8], name: String) throws -> Loaded {
        let file = MappedFile(name: name, data: d)
        var r = WireReader(file.bytes)
        let t: ONNXTensorProto
        do { t = try ModelDecoder.decodeTensor(&r, file: file) } catch let e as WireReader.WireError {
            throw ONNXError("not a valid TensorProto: \(e) (corrupt or truncated?)")
        }
        guard let type = ONNXDataType(rawValue: t.dataType), numpyDescriptor(type) != nil else {
            throw ONNXError("TensorProto element type \(ONNXDataType.describe(t.dataType)) is not supported (float32/64, int8/16/32/64, uint8/16/32, bool are)")
        }
        guard t.elementCount >= 0 else { throw ONNXError("impossible dims \(t.dims)") }
        let dims = t.dims.map { Int($0) }
        let value = t.isFloatingPoint ? ONNXTensorValue(name: t.name, dims: dims, floats: try t.floats())
                                      : ONNXTensorValue(name: t.name, dims: dims, int64s: try t.int64s())
        return Loaded(value: value, elementType: type)
    }

    static func tensorProtoBytes(_ value: ONNXTensorValue, as t: ONNXDataType) throws -> [UInt8] {
        var w = WireWriter()
        for d in value.dims { w.int64(1, Int64(d)) }
        w.int64(2, t.rawValue)
        if !value.name.isEmpty { w.string(8, value.name) }
        try littleEndianBytes(value, as: t).withUnsafeBytes { w.bytesField(9, $0) }
        return w.bytes
    }
}

extension ONNXTensorValue.Storage {
    var kind: String {
        switch self { case .float32: return "float32"; case .int64: return "integer" }
    }
}
