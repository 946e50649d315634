import ETImage
import Foundation
import XCTest

/// Prints cropResize timings for the tracker's crop sizes (run with `-c release` for real
/// numbers). Asserts only a loose bound, so a slow CI machine does not fail it.
final class CropResizeTimingTests: XCTestCase {
    func testCropResizeTiming() {
        var rng = SplitMix64(seed: 3)
        let frame = randomImage(width: 1280, height: 720, channels: 3, rng: &rng)
        var out = [UInt8](repeating: 0, count: 255 * 255 * 3)
        // (crop side, output side, x, y): inside, across the border, upscale, 2x.
        let cases = [(400, 255, 300, 200), (1000, 255, 600, -100), (510, 255, 100, 100), (200, 127, 500, 300),
                     (100, 255, 10, 10), (255, 255, 1100, 600)]
        for (side, o, x, y) in cases {
            #if DEBUG
            let reps = 2  // debug builds are ~500x slower; only the release numbers mean anything
            #else
            let reps = 200
            #endif
            let start = DispatchTime.now().uptimeNanoseconds
            out.withUnsafeMutableBufferPointer { buf in
                for _ in 0..<reps {
                    ImageOps.cropResize(frame, x: x, y: y, width: side, height: side, padding: [1, 2, 3],
                                        outWidth: o, outHeight: o, into: buf.baseAddress!)
                }
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(reps)
            print(String(format: "cropResize %4d -> %3d at (%d,%d): %.4f ms", side, o, x, y, ms))
            #if !DEBUG
            XCTAssertLessThan(ms, 5, "cropResize \(side)->\(o) took \(ms) ms")
            #endif
        }
    }
}
