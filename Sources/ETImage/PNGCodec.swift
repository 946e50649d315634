import CPNG
import Foundation

/// PNG through libpng's simplified `png_image` API, which reports errors in
/// `png_image.message` instead of by `longjmp`.
///
/// Decoding converts every PNG variant to 8-bit RGB:
/// - grey and palette images are expanded to RGB;
/// - an alpha channel is dropped without compositing (what `cv2.imread` does with
///   `IMREAD_COLOR`), by decoding to RGBA and keeping RGB;
/// - 16-bit samples without a gAMA/sRGB chunk are taken as sRGB-encoded
///   (`PNG_IMAGE_FLAG_16BIT_sRGB`) and scaled to 8 bits. OpenCV keeps the high byte instead, so
///   16-bit files may differ from `cv2.imread` by 1.
enum PNGCodec {
    // png.h builds these from flag macros that Swift does not import.
    private static let formatGray: UInt32 = 0
    private static let formatGA = UInt32(PNG_FORMAT_FLAG_ALPHA)
    private static let formatRGB = UInt32(PNG_FORMAT_FLAG_COLOR)
    private static let formatRGBA = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

    static func decode(_ data: Data, name: String) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let began = data.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard began != 0 else { throw ImageError.decodeFailed(file: name, reason: message(image)) }
        // After begin_read, which resets the struct: without this flag 16-bit samples are taken
        // as linear light and gamma-encoded on the way to 8 bits (differences up to ~70 levels).
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let channels = hasAlpha ? 4 : 3
        image.format = hasAlpha ? formatRGBA : formatRGB
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else {
            throw ImageError.decodeFailed(file: name, reason: "invalid size \(width)x\(height)")
        }
        try ImageIO.checkDecodedSize(width, height, name: name)
        var buffer = [UInt8](repeating: 0, count: width * height * channels)
        let finished = data.withUnsafeBytes { _ in
            // The memory reader keeps pointing into `data`, which stays alive for this call.
            buffer.withUnsafeMutableBytes { dst in
                png_image_finish_read(&image, nil, dst.baseAddress, 0, nil)
            }
        }
        guard finished != 0 else { throw ImageError.decodeFailed(file: name, reason: message(image)) }
        if !hasAlpha { return Image(width: width, height: height, channels: 3, pixels: buffer) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            rgb[3 * i] = buffer[4 * i]
            rgb[3 * i + 1] = buffer[4 * i + 1]
            rgb[3 * i + 2] = buffer[4 * i + 2]
        }
        return Image(width: width, height: height, channels: 3, pixels: rgb)
    }

    static func encode(_ image: Image, name: String) throws -> Data {
        let format: UInt32
        switch image.channels {
        case 1: format = formatGray
        case 2: format = formatGA
        case 3: format = formatRGB
        case 4: format = formatRGBA
        default: throw ImageError.encodeFailed(file: name, reason: "PNG needs 1 to 4 channels, not \(image.channels)")
        }
        guard image.width > 0, image.height > 0 else {
            throw ImageError.encodeFailed(file: name, reason: "cannot encode an empty \(image.width)x\(image.height) image")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = format
        defer { png_image_free(&png) }
        return try image.pixels.withUnsafeBytes { src -> Data in
            // First call sizes the output, second fills it.
            var size = 0
            guard png_image_write_to_memory(&png, nil, &size, 0, src.baseAddress, 0, nil) != 0 else {
                throw ImageError.encodeFailed(file: name, reason: message(png))
            }
            var out = Data(count: size)
            let ok = out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw ImageError.encodeFailed(file: name, reason: message(png)) }
            return out.prefix(size)
        }
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { raw in
            let text = String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            return text.isEmpty ? "libpng error" : text
        }
    }
}
