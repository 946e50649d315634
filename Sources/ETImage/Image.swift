/// An 8-bit interleaved image (HWC), the form frames are decoded into.
///
/// Colour frames are stored in RGB order with 3 channels; grey images have 1 channel.
/// Rows are tightly packed: pixel (x, y) channel c is at `(y * width + x) * channels + c`.
public struct Image: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && channels > 0 && pixels.count == width * height * channels,
                     "Image: \(width)x\(height)x\(channels) does not match \(pixels.count) bytes")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A solid image.
    public init(width: Int, height: Int, channels: Int = 3, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: fill, count: width * height * channels))
    }
}
