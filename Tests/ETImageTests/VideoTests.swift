import ETImage
import Foundation
import XCTest

final class VideoTests: XCTestCase {
    static let videos = ["/work/shared/data/videos/pysot_demo_bag.avi", "/work/shared/data/videos/mmtracking_demo.mp4"]

    /// Same decoder as cv2.VideoCapture (libavcodec), but a different FFmpeg build and swscale
    /// settings, so pixels are compared loosely: same count and size, small mean difference.
    func testFramesMatchCV2VideoCapture() throws {
        try ReferenceRunner.requireOpenCV()
        for file in Self.videos where FileManager.default.fileExists(atPath: file) {
            let ref = try ReferenceRunner()
            ref.add(["op": "video", "path": file, "out": "frames.u8", "meta": "meta.json"])
            try ref.run()
            let meta = try XCTUnwrap(ref.json("meta.json") as? [String: Any])
            let expected = try ref.raw("frames.u8")
            let video = try VideoReader(path: file)
            XCTAssertEqual(video.width, meta["width"] as? Int, file)
            XCTAssertEqual(video.height, meta["height"] as? Int, file)
            XCTAssertEqual(video.fps, meta["fps"] as? Double ?? -1, accuracy: 0.01, file)
            var index = 0, worstMean = 0.0, worstMax = 0
            let size = video.width * video.height * 3
            while let frame = try video.nextFrame() {
                guard (index + 1) * size <= expected.count else { index += 1; continue }
                let slice = Array(expected[index * size..<(index + 1) * size])
                var sum = 0, mx = 0
                for i in 0..<size { let d = abs(Int(frame.pixels[i]) - Int(slice[i])); sum += d; mx = max(mx, d) }
                worstMean = max(worstMean, Double(sum) / Double(size)); worstMax = max(worstMax, mx)
                index += 1
            }
            XCTAssertEqual(index, meta["count"] as? Int, "\(file): frame count")
            if let declared = video.frameCount { XCTAssertEqual(declared, index, "\(file): declared nb_frames") }
            print("\(file): \(index) frames, worst mean |diff| \(worstMean), worst max |diff| \(worstMax) vs cv2")
            XCTAssertLessThan(worstMean, 1.5, "\(file): mean abs diff vs cv2 \(worstMean) (max \(worstMax))")
        }
    }

    func testWriteThenRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etimage-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, w, h) in [("a.mp4", 64, 48), ("b.avi", 40, 30), ("odd.mp4", 33, 21)] {
            let file = dir.appendingPathComponent(name).path
            let writer = try VideoWriter(path: file, width: w, height: h, fps: 10)
            for i in 0..<5 {
                var frame = Image(width: w, height: h, channels: 3, fill: UInt8(40 * i))
                ImageOps.drawRectangle(&frame, x: 2, y: 2, width: 20, height: 10, color: [255, 0, 0])
                try writer.write(frame)
            }
            XCTAssertThrowsError(try writer.write(Image(width: w + 1, height: h, channels: 3)))
            try writer.close()
            let reader = try VideoReader(path: file)
            XCTAssertEqual(reader.width, w + w % 2, name)
            XCTAssertEqual(reader.height, h + h % 2, name)
            XCTAssertEqual(reader.fps, 10, accuracy: 0.01, name)
            var n = 0
            while let f = try reader.nextFrame() {
                // a flat grey frame survives lossy coding closely (centre pixel, away from the box)
                let p = f.pixels[((f.height - 3) * f.width + f.width - 3) * 3]
                XCTAssertLessThan(abs(Int(p) - 40 * n), 6, "\(name) frame \(n)")
                n += 1
            }
            XCTAssertEqual(n, 5, name)
        }
    }

    func testErrorsNameTheFile() throws {
        let missing = "/nonexistent/clip.mp4"
        XCTAssertThrowsError(try VideoReader(path: missing)) { XCTAssertTrue("\($0)".contains(missing), "\($0)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etimage-vbad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.mp4").path
        try Data("definitely not a video".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try VideoReader(path: junk)) { XCTAssertTrue("\($0)".contains(junk), "\($0)") }
        let badExt = dir.appendingPathComponent("x.gif").path
        XCTAssertThrowsError(try VideoWriter(path: badExt, width: 8, height: 8, fps: 5)) {
            XCTAssertTrue("\($0)".contains(badExt), "\($0)")
        }
        let noDir = dir.appendingPathComponent("missing/x.mp4").path
        XCTAssertThrowsError(try {
            let w = try VideoWriter(path: noDir, width: 8, height: 8, fps: 5)
            try w.write(Image(width: 8, height: 8, channels: 3))
            try w.close()
        }()) { XCTAssertTrue("\($0)".contains(noDir), "\($0)") }
    }
}
