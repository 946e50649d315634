import ETData
/// Errors a tracker raises for input it cannot use. Messages say what was wrong and with what value.
public struct TrackingError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension BoundingBox {
    /// Checks that the box can start tracking on a `width × height` frame: finite, positive size,
    /// and overlapping the frame.
    /// - Throws: `TrackingError` naming the problem and the box.
    public func validate(frameWidth: Int, frameHeight: Int) throws {
        guard x.isFinite, y.isFinite, width.isFinite, height.isFinite else {
            throw TrackingError("box \(self) is not finite (NaN or infinity)")
        }
        guard width > 0, height > 0 else {
            throw TrackingError("box \(self) is empty or negative: width and height must be > 0")
        }
        guard x < Double(frameWidth), y < Double(frameHeight), x + width > 0, y + height > 0 else {
            throw TrackingError("box \(self) lies outside the \(frameWidth)x\(frameHeight) frame")
        }
    }
}
