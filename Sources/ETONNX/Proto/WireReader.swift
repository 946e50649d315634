/// A reader of the protobuf wire format over a byte buffer, used to decode ONNX files
/// without generated code. It never reads past its window: every malformed length, varint or
/// truncation raises `WireError` with the byte offset.
///
/// Wire format: each field starts with a varint key `(number << 3) | type`; types are
/// 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (3/4, groups, are rejected).
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.bytes = bytes
        self.offset = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    struct WireError: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    enum WireType: Int { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    var isAtEnd: Bool { offset >= end }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw WireError(message: "truncated varint", offset: offset) }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 { throw WireError(message: "varint overflows 64 bits", offset: offset - 1) }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw WireError(message: "varint longer than 10 bytes", offset: offset) }
        }
    }

    /// Reads a field key; returns nil at the end of the window.
    mutating func readKey() throws -> (field: Int, type: WireType)? {
        guard !isAtEnd else { return nil }
        let start = offset
        let key = try readVarint()
        guard let t = WireType(rawValue: Int(key & 7)) else {
            throw WireError(message: "unsupported wire type \(key & 7)", offset: start)
        }
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw WireError(message: "field number 0", offset: start) }
        return (field, t)
    }

    /// The byte range of a length-delimited payload (advances past it).
    mutating func readLengthDelimited() throws -> Range<Int> {
        let at = offset
        let n = try readVarint()
        guard n <= UInt64(end - offset) else {
            throw WireError(message: "length \(n) runs past the end of its message (truncated file?)", offset: at)
        }
        let r = offset..<(offset + Int(n))
        offset += Int(n)
        return r
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - offset >= 4 else { throw WireError(message: "truncated fixed32", offset: offset) }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: v)
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - offset >= 8 else { throw WireError(message: "truncated fixed64", offset: offset) }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: v)
    }

    mutating func skip(_ type: WireType) throws {
        switch type {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        }
    }

    mutating func readString() throws -> String {
        let r = try readLengthDelimited()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    }

    /// A sub-reader over a nested message.
    mutating func readMessage() throws -> WireReader {
        WireReader(bytes, range: try readLengthDelimited())
    }

    /// Appends a repeated int64 field, packed or not.
    mutating func readInt64s(_ type: WireType, into out: inout [Int64]) throws {
        if type == .lengthDelimited {
            var sub = try readMessage()
            while !sub.isAtEnd { out.append(Int64(bitPattern: try sub.readVarint())) }
        } else {
            out.append(Int64(bitPattern: try readVarint()))
        }
    }

    /// Appends a repeated float field, packed or not.
    mutating func readFloats(_ type: WireType, into out: inout [Float]) throws {
        if type == .lengthDelimited {
            var sub = try readMessage()
            while !sub.isAtEnd { out.append(Float(bitPattern: try sub.readFixed32())) }
        } else {
            out.append(Float(bitPattern: try readFixed32()))
        }
    }

    mutating func readDoubles(_ type: WireType, into out: inout [Double]) throws {
        if type == .lengthDelimited {
            var sub = try readMessage()
            while !sub.isAtEnd { out.append(Double(bitPattern: try sub.readFixed64())) }
        } else {
            out.append(Double(bitPattern: try readFixed64()))
        }
    }
}
