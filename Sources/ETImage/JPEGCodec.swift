import CTurboJPEG
import Foundation

/// JPEG through TurboJPEG's 2.x API (`tjDecompress2`, `tjCompress2`), which reports errors by
/// return code; the classic libjpeg API would need `setjmp`.
///
/// Decoding uses TurboJPEG's defaults (accurate integer IDCT, fancy upsampling), the same
/// settings `cv2.imread` uses, so frames decode to the same pixels as OpenCV's.
enum JPEGCodec {
    static func decode(_ data: Data, name: String) throws -> Image {
        guard let handle = tjInitDecompress() else {
            throw ImageError.decodeFailed(file: name, reason: "tjInitDecompress failed")
        }
        defer { tjDestroy(handle) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Image in
            let src = raw.bindMemory(to: UInt8.self)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &width, &height,
                                   &subsampling, &colorspace) != 0 {
                throw ImageError.decodeFailed(file: name, reason: message(handle))
            }
            guard width > 0, height > 0 else {
                throw ImageError.decodeFailed(file: name, reason: "invalid size \(width)x\(height)")
            }
            try ImageIO.checkDecodedSize(Int(width), Int(height), name: name)
            var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
            let status = pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                              width, 0, height, Int32(TJPF_RGB.rawValue), 0)
            }
            // Warnings (e.g. "Premature end of JPEG file") also return -1: a truncated frame is
            // an error here, where cv2.imread would hand back a partly grey image.
            if status != 0 { throw ImageError.decodeFailed(file: name, reason: message(handle)) }
            return Image(width: Int(width), height: Int(height), channels: 3, pixels: pixels)
        }
    }

    static func encode(_ image: Image, quality: Int, name: String) throws -> Data {
        let pixelFormat: TJPF
        let subsampling: TJSAMP
        switch image.channels {
        case 1: pixelFormat = TJPF_GRAY; subsampling = TJSAMP_GRAY
        case 3: pixelFormat = TJPF_RGB; subsampling = TJSAMP_420
        default:
            throw ImageError.encodeFailed(file: name, reason: "JPEG needs 1 or 3 channels, not \(image.channels)")
        }
        guard (1...100).contains(quality) else {
            throw ImageError.encodeFailed(file: name, reason: "JPEG quality \(quality) is outside 1...100")
        }
        guard image.width > 0, image.height > 0 else {
            throw ImageError.encodeFailed(file: name, reason: "cannot encode an empty \(image.width)x\(image.height) image")
        }
        guard let handle = tjInitCompress() else {
            throw ImageError.encodeFailed(file: name, reason: "tjInitCompress failed")
        }
        defer { tjDestroy(handle) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { if let jpeg { tjFree(jpeg) } }
        let status = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height),
                        Int32(pixelFormat.rawValue), &jpeg, &size, Int32(subsampling.rawValue),
                        Int32(quality), 0)
        }
        guard status == 0, let jpeg else { throw ImageError.encodeFailed(file: name, reason: message(handle)) }
        return Data(bytes: jpeg, count: Int(size))
    }

    private static func message(_ handle: tjhandle) -> String {
        String(cString: tjGetErrorStr2(handle))
    }
}
