import ETCore
import Foundation

extension SafeTensors {
    /// The tensors as safetensors bytes: F32, sorted by name, header padded with spaces to a
    /// multiple of 8 bytes (as the Python package does, so the data starts 8-byte aligned).
    /// - Throws: `WeightsError` when a tensor is named `__metadata__` (reserved by the format)
    ///   or has an empty name.
    public func serialized() throws -> [UInt8] {
        var header = "{"
        var first = true
        func separator() { if !first { header += "," }; first = false }
        if !metadata.isEmpty {
            separator()
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted(by: Self.utf8Less).map { "\(Self.json($0)):\(Self.json(metadata[$0]!))" }.joined(separator: ",")
            header += "}"
        }
        var offset = 0
        let order = names
        for name in order {
            guard !name.isEmpty, name != "__metadata__" else {
                throw WeightsError("\(source): cannot write a tensor named '\(name)' (the name is reserved or empty)")
            }
            let t = tensors[name]!
            let bytes = t.count * 4
            separator()
            header += "\(Self.json(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for name in order {
            #if _endian(little)
            tensors[name]!.data.withUnsafeBytes { out.append(contentsOf: $0) }
            #else
            for v in tensors[name]!.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Writes the tensors to `path` atomically (temporary file, then rename): a crash never
    /// leaves half a checkpoint under the final name.
    /// - Throws: `WeightsError` naming the file.
    public func write(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try serialized() } catch let e as WeightsError {
            throw WeightsError(e.message.replacingOccurrences(of: "\(source): ", with: "\(path): "))
        }
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw WeightsError("\(path): cannot write the weights file (\(error))")
        }
    }

    /// A JSON string literal, escaped as serde_json (the reference writer) does: quotes,
    /// backslashes and control characters; everything else as UTF-8.
    static func json(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            case "\u{08}": r += "\\b"
            case "\u{0C}": r += "\\f"
            case _ where u.value < 0x20: r += String(format: "\\u%04x", u.value)
            default: r.unicodeScalars.append(u)
            }
        }
        return r + "\""
    }
}
