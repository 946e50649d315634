import Foundation

/// Reading and writing still images: JPEG through TurboJPEG and PNG through libpng's
/// simplified `png_image` API.
///
/// Neither library is driven through an interface that reports errors with `setjmp`/`longjmp`
/// (which Swift cannot survive), so a truncated or corrupt file becomes an ``ImageError``
/// naming the file, never a crash.
///
/// Decoded images are always 8-bit RGB (3 channels, HWC): grey, grey+alpha, RGBA, palette
/// and 16-bit PNGs are converted, and an alpha channel is dropped (as `cv2.imread` does with
/// `IMREAD_COLOR`).
public enum ImageIO {
    /// The largest frame decoded: 2^27 pixels (e.g. 16384 x 8192, 400 MB as RGB). A damaged
    /// header can claim 65535 x 65535; without the cap that is a 13 GB allocation before the
    /// decoder finds the data missing.
    public static let maxPixels = 1 << 27

    static func checkDecodedSize(_ width: Int, _ height: Int, name: String) throws {
        guard width <= 1 << 16, height <= 1 << 16, width * height <= maxPixels else {
            throw ImageError.decodeFailed(file: name, reason: "the header claims \(width)x\(height) pixels, more than the \(maxPixels) a frame may have (damaged file?)")
        }
    }

    /// The container formats ``ImageIO`` reads and writes.
    public enum Format: Sendable, Equatable {
        case jpeg
        case png

        /// The format whose magic bytes start `bytes`, or `nil`.
        public static func detect<C: Collection>(_ bytes: C) -> Format? where C.Element == UInt8 {
            let head = Array(bytes.prefix(8))
            if head.count >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF { return .jpeg }
            if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
            return nil
        }

        /// The format implied by a file extension (`.jpg`, `.jpeg`, `.png`), or `nil`.
        public static func fromExtension(of path: String) -> Format? {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "jpg", "jpeg": return .jpeg
            case "png": return .png
            default: return nil
            }
        }
    }

    /// Reads and decodes a JPEG or PNG file (detected by its magic bytes, not its name).
    ///
    /// - Parameter path: The file to read.
    /// - Returns: An 8-bit RGB image.
    /// - Throws: ``ImageError/cannotOpen(file:reason:)`` if the file is missing or unreadable,
    ///   ``ImageError/unsupportedFormat(file:)`` or ``ImageError/decodeFailed(file:reason:)``.
    public static func read(path: String) throws -> Image {
        try decode(data: readFile(path), name: path)
    }

    /// Decodes an in-memory JPEG or PNG file.
    ///
    /// - Parameters:
    ///   - data: The encoded bytes.
    ///   - name: A name for error messages (usually the file the bytes came from).
    /// - Returns: An 8-bit RGB image.
    /// - Throws: ``ImageError/unsupportedFormat(file:)`` or ``ImageError/decodeFailed(file:reason:)``.
    public static func decode(data: Data, name: String) throws -> Image {
        guard let format = Format.detect(data) else {
            if data.isEmpty { throw ImageError.decodeFailed(file: name, reason: "the file is empty") }
            throw ImageError.unsupportedFormat(file: name)
        }
        switch format {
        case .jpeg: return try JPEGCodec.decode(data, name: name)
        case .png: return try PNGCodec.decode(data, name: name)
        }
    }

    /// Encodes an image in memory.
    ///
    /// - Parameters:
    ///   - image: An 8-bit image with 1 (grey) or 3 (RGB) channels; PNG also takes 2 (grey +
    ///     alpha) and 4 (RGBA).
    ///   - format: The container to produce.
    ///   - quality: JPEG quality 1...100 (ignored for PNG). JPEG uses 4:2:0 chroma subsampling.
    ///   - name: A name for error messages.
    /// - Throws: ``ImageError/encodeFailed(file:reason:)``.
    public static func encode(_ image: Image, format: Format, quality: Int = 95, name: String = "<memory>") throws -> Data {
        switch format {
        case .jpeg: return try JPEGCodec.encode(image, quality: quality, name: name)
        case .png: return try PNGCodec.encode(image, name: name)
        }
    }

    /// Writes an image as PNG or JPEG, chosen by the file extension (`.png`, `.jpg`, `.jpeg`).
    ///
    /// The file is written to a temporary name beside the destination and then renamed, so a
    /// reader never sees half a file.
    ///
    /// - Parameters:
    ///   - image: The image to write (see ``encode(_:format:quality:name:)`` for channel counts).
    ///   - path: The destination; its extension selects the format.
    ///   - quality: JPEG quality 1...100 (ignored for PNG).
    /// - Throws: ``ImageError/encodeFailed(file:reason:)``.
    public static func write(_ image: Image, to path: String, quality: Int = 95) throws {
        guard let format = Format.fromExtension(of: path) else {
            throw ImageError.encodeFailed(file: path, reason: "unknown extension; use .png, .jpg or .jpeg")
        }
        let data = try encode(image, format: format, quality: quality, name: path)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temp)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(at: temp, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ImageError.encodeFailed(file: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The whole file as bytes, with a missing file reported as such.
    static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError.cannotOpen(file: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw ImageError.cannotOpen(file: path, reason: "is a directory") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError.cannotOpen(file: path, reason: error.localizedDescription)
        }
    }
}
