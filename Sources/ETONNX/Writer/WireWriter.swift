/// An encoder of the protobuf wire format into a growing byte array, the writing twin of
/// `WireReader`.
///
/// Wire format: each field starts with a varint key `(number << 3) | type`; types are
/// 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. Integers are plain (not zig-zag)
/// varints, so a negative int64 takes 10 bytes, as protobuf's `int64` does. Repeated scalars
/// are written unpacked (one key per element), which is what proto2 files such as onnx.proto
/// declare and what `onnx.save` produces; readers must accept both forms.
///
/// Nested messages are written by `message(_:_:)`: the body is encoded into a scratch writer
/// first, then its length and bytes are appended. For ONNX models this copies each byte once
/// per nesting level (about 4 levels for raw weights), which costs milliseconds even for
/// 100 MB models and keeps the encoder simple.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity n: Int = 0) { bytes.reserveCapacity(n) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ type: WireReader.WireType) {
        precondition(field > 0 && field < 1 << 29, "protobuf field number \(field) out of range")
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// An `int64`/`int32`/`enum` field (two's complement varint).
    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A `float` field (fixed32, little-endian).
    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        fixed32(value.bitPattern)
    }

    mutating func fixed32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `string` field (UTF-8, length-delimited).
    mutating func string(_ field: Int, _ value: String) {
        key(field, .lengthDelimited)
        var s = value
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A `bytes` field.
    mutating func bytesField(_ field: Int, _ value: UnsafeRawBufferPointer) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A nested message field; `body` encodes the message's own fields.
    mutating func message(_ field: Int, _ body: (inout WireWriter) -> Void) {
        var sub = WireWriter()
        body(&sub)
        key(field, .lengthDelimited)
        varint(UInt64(sub.bytes.count))
        bytes.append(contentsOf: sub.bytes)
    }
}
