import ETCore
import Foundation

/// A set of named float32 tensors in the safetensors format (the format of Hugging Face's
/// `safetensors` package and timm checkpoints).
///
/// File layout:
///
/// ```
/// N        u64 little-endian: byte length of the header
/// header   N bytes of UTF-8 JSON, padded with spaces:
///          {"__metadata__": {"key": "value", ...},             (optional, strings only)
///           "<name>": {"dtype": "F32", "shape": [d0, d1, ...],
///                      "data_offsets": [begin, end]}, ...}     (byte offsets into data)
/// data     the tensors' bytes, little-endian, row-major, no gaps
/// ```
///
/// Reading accepts F32, F16, BF16 and F64 and converts to Float32 (F64 rounds). It checks
/// what the reference implementation checks — header size, JSON shape, offsets inside the
/// data, no overlaps or holes, shape × dtype size = byte count — and also that every value is
/// finite, so a diverged checkpoint is caught at load, naming the tensor. Writing produces F32
/// with tensors sorted by name (UTF-8 byte order, which is also the order of Python's
/// `safetensors.numpy.save_file` for F32 data), so the same tensors always give the same bytes.
public struct SafeTensors: Equatable {
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// `__metadata__`: free-form string pairs (configuration name, seed, version, ...).
    public var metadata: [String: String]
    /// Where the tensors came from, used in error messages ("<memory>" unless read from a file).
    public var source: String

    /// The tensor names in their stable order (UTF-8 byte order), the order they are written in.
    public var names: [String] { tensors.keys.sorted(by: Self.utf8Less) }

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:], source: String = "<memory>") {
        self.tensors = tensors
        self.metadata = metadata
        self.source = source
    }

    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// Reads a safetensors file.
    /// - Parameter allowNonFinite: accept NaN and ±infinity (rejected by default).
    /// - Throws: `WeightsError` naming the file (and tensor) when the file is missing, truncated
    ///   or malformed, uses an unsupported dtype, or holds a non-finite value.
    public init(contentsOf path: String, allowNonFinite: Bool = false) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw WeightsError("\(path): cannot read the weights file (\((error as NSError).localizedDescription))")
        }
        try self.init(data: data, source: path, allowNonFinite: allowNonFinite)
    }

    /// Parses safetensors bytes; `source` names them in error messages.
    public init<Bytes: DataProtocol>(data: Bytes, source: String = "<memory>", allowNonFinite: Bool = false) throws where Bytes: ContiguousBytes {
        self.source = source
        (tensors, metadata) = try data.withUnsafeBytes { try Self.parse($0, source: source, allowNonFinite: allowNonFinite) }
    }

    /// Element types of the format, with their sizes in bytes. Those after F64 are recognised
    /// (to give a precise error) but not read.
    public enum DType: String, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3",
             i16 = "I16", u16 = "U16", i32 = "I32", u32 = "U32", i64 = "I64", u64 = "U64"

        public var byteSize: Int {
            switch self {
            case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
            case .f16, .bf16, .i16, .u16: return 2
            case .f32, .i32, .u32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        var isReadable: Bool { [.f32, .f16, .bf16, .f64].contains(self) }
    }

    /// Header entries larger than this are refused as not-a-safetensors-file (the reference
    /// implementation's limit).
    static let maxHeaderBytes = 100_000_000

    static func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, source: String, allowNonFinite: Bool) throws -> ([String: Tensor], [String: String]) {
        func fail(_ why: String) -> WeightsError { WeightsError("\(source): \(why)") }
        guard raw.count >= 8 else {
            throw fail("truncated file: \(raw.count) bytes, but a safetensors file starts with an 8-byte header length")
        }
        let declared = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(declared) is implausible (over \(maxHeaderBytes) bytes; not a safetensors file?)")
        }
        let n = Int(declared)
        guard n <= raw.count - 8 else {
            throw fail("truncated file: the header should have \(n) bytes but only \(raw.count - 8) follow the length")
        }
        guard n >= 2, raw[8] == UInt8(ascii: "{") else { throw fail("bad header: it does not start with a JSON object '{'") }
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: raw[8..<(8 + n)]))
        guard String(data: headerBytes, encoding: .utf8) != nil else { throw fail("bad header: not valid UTF-8") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw fail("bad header: not valid JSON (\((error as NSError).localizedDescription))")
        }
        guard let header = json as? [String: Any] else { throw fail("bad header: not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("bad header: __metadata__ is not an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("bad header: __metadata__ value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            func bad(_ why: String) -> WeightsError { fail("bad header: tensor '\(name)': \(why)") }
            guard let d = value as? [String: Any] else { throw bad("entry is not an object") }
            guard let dtypeName = d["dtype"] as? String else { throw bad("missing \"dtype\"") }
            guard let dtype = DType(rawValue: dtypeName) else { throw bad("unknown dtype '\(dtypeName)'") }
            guard let shapeValues = d["shape"] as? [Any], let shape = integers(shapeValues) else {
                throw bad("\"shape\" is not a list of non-negative integers")
            }
            guard let offsetValues = d["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
                throw bad("\"data_offsets\" is not a pair of non-negative integers")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }

        // Offsets: inside the data, sized by shape × dtype, no overlaps, no holes.
        let dataStart = 8 + n
        let dataCount = raw.count - dataStart
        entries.sort { ($0.begin, $0.end) != ($1.begin, $1.end) ? ($0.begin, $0.end) < ($1.begin, $1.end) : utf8Less($0.name, $1.name) }
        var covered = 0
        var previous: Entry? = nil
        for e in entries {
            let range = "data_offsets [\(e.begin), \(e.end)]"
            guard e.begin <= e.end else { throw fail("tensor '\(e.name)': \(range) end before they begin") }
            guard e.end <= dataCount else {
                throw fail("tensor '\(e.name)': \(range) run past the end of the data (\(dataCount) bytes; truncated file?)")
            }
            var count = 1
            for d in e.shape {
                let (r, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw fail("tensor '\(e.name)': shape \(e.shape) overflows") }
                count = r
            }
            let (bytes, o) = count.multipliedReportingOverflow(by: e.dtype.byteSize)
            guard !o, bytes == e.end - e.begin else {
                throw fail("tensor '\(e.name)': shape \(e.shape) of \(e.dtype.rawValue) needs \(o ? "more" : "\(bytes)") bytes but \(range) hold \(e.end - e.begin)")
            }
            if e.begin < covered, let p = previous {
                throw fail("tensors '\(p.name)' (data_offsets [\(p.begin), \(p.end)]) and '\(e.name)' (\(range)) overlap")
            }
            if e.begin > covered {
                throw fail("the data has \(e.begin - covered) bytes at offset \(covered) that no tensor owns (before '\(e.name)'; corrupt header?)")
            }
            covered = e.end
            previous = e
        }
        if covered != dataCount {
            throw fail("the data has \(dataCount - covered) bytes at offset \(covered) that no tensor owns (trailing garbage or a corrupt header)")
        }

        var tensors: [String: Tensor] = [:]
        for e in entries {
            guard e.dtype.isReadable else {
                throw fail("tensor '\(e.name)': dtype \(e.dtype.rawValue) is not supported (F32, F16, BF16 and F64 are)")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
            let values = convert(bytes, e.dtype)
            if !allowNonFinite, let i = values.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor '\(e.name)' holds \(values[i].isNaN ? "NaN" : "\(values[i])") at flat index \(i) of shape \(e.shape) (a diverged or corrupt checkpoint?)")
            }
            tensors[e.name] = Tensor(shape: e.shape, data: values)
        }
        return (tensors, metadata)
    }

    /// Non-negative integers from JSON numbers, or nil.
    private static func integers(_ values: [Any]) -> [Int]? {
        var r: [Int] = []
        for v in values {
            // JSON true/false arrive as NSNumber too; their objCType is "c".
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
            let i = n.int64Value
            guard i >= 0, Double(i) == n.doubleValue, i <= Int64(Int.max) else { return nil }
            r.append(Int(i))
        }
        return r
    }

    /// Little-endian elements of `dtype` to Float32: F16 and BF16 exactly, F64 rounded to nearest.
    static func convert(_ b: UnsafeRawBufferPointer, _ dtype: DType) -> [Float] {
        let n = b.count / dtype.byteSize
        switch dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { out, count in
                #if _endian(little)
                if n > 0 { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: b.baseAddress!, byteCount: n * 4) }
                #else
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                #endif
                count = n
            }
        case .f64:
            return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
        case .bf16:
            return (0..<n).map { Float(bitPattern: UInt32(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
        case .f16:
            return (0..<n).map { halfToFloat(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        default:
            preconditionFailure("convert: \(dtype) is not readable")
        }
    }

    /// IEEE binary16 → binary32, exact (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        switch exponent {
        case 0:
            // Subnormal (or zero): mantissa × 2^-24, exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 31:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}
