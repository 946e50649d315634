import ETData
import ETImage
@testable import ETTracking
import Foundation
import XCTest

/// Loading one-stream models (interface, metadata, errors), bad boxes and frames, the corrected
/// mode's safety rules, and `TrackerLoader` with `.onnx` files.
final class OneStreamModelTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testMetadataIsReadAndDefaultsApplyWithout() throws {
        let plain = try OneStreamModel(path: OneStreamFixtures.path("still"))
        XCTAssertFalse(plain.hasMetadata)
        XCTAssertNil(plain.configuration)
        XCTAssertEqual(plain.preprocessing, .imageNet)
        XCTAssertEqual([plain.templateSize, plain.searchSize, plain.scoreSize], [128, 256, 16])
        let meta = try OneStreamModel(path: OneStreamFixtures.path("still", metadata: true))
        XCTAssertTrue(meta.hasMetadata)
        XCTAssertEqual(meta.configuration, "still")
        XCTAssertEqual(meta.scoreSemantics, "sigmoid")
        XCTAssertEqual(meta.preprocessing, .imageNet)
        let bgr = try OneStreamModel(path: OneStreamFixtures.path("bgr"))
        XCTAssertEqual(bgr.preprocessing, OneStreamPreprocessing(mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229], colorOrder: .bgr))
        let custom = OneStreamPreprocessing(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], colorOrder: .rgb)
        XCTAssertEqual(try OneStreamModel(path: OneStreamFixtures.path("bgr"), preprocessing: custom).preprocessing, custom)
        XCTAssertEqual(try OneStreamModel.numbers("[0.1, 0.2, 0.3]", key: "k", path: "p"), [0.1, 0.2, 0.3])
        XCTAssertEqual(try OneStreamModel.side("1x3x128x128", key: "k", path: "p"), 128)
    }

    func testBadModelsAreRejectedNamingTheFile() throws {
        let cases: [(String, String)] = [
            ("bad-inputs", "expected the inputs 'template' and 'search'"),
            ("bad-outputs", "output 'output3' is missing"),
            ("bad-shape", "expected 1x1xMxM, 1x2xMxM, 1x2xMxM"),
            ("bad-mean", "etrack.mean '0.485,zero,0.406' is not three numbers"),
            ("bad-scale", "0...255 scale"),
            ("bad-box", "etrack.box 'corner'"),
            ("bad-version", "etrack.format_version 2 is newer"),
            ("bad-order", "etrack.color_order 'YUV'"),
            ("bad-size", "non-square"),
        ]
        for (name, expected) in cases {
            let path = OneStreamFixtures.path(name)
            let m = message { _ = try OneStreamModel(path: path) }
            XCTAssertTrue(m.contains(path) && m.contains(expected), "\(name): \(m)")
            let l = message { _ = try TrackerLoader.load(model: path) }
            XCTAssertTrue(l.contains(path), "loader, \(name): \(l)")
        }
        let missing = OneStreamFixtures.directory + "/nope.onnx"
        XCTAssertTrue(message { _ = try OneStreamModel(path: missing) }.contains("'\(missing)' does not exist"))
        XCTAssertTrue(message { _ = try TrackerLoader.load(model: missing) }.contains("'\(missing)' does not exist"))
        // A NanoTrack graph is not a one-stream model.
        let nano = TrackingFixtures.model("v2") + "/backbone.onnx"
        XCTAssertTrue(message { _ = try OneStreamModel(path: nano) }.contains("\(nano): not a one-stream tracker"))
        // A file that is not ONNX at all.
        let junk = OneStreamFixtures.directory + "/junk.onnx"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertTrue(message { _ = try OneStreamModel(path: junk) }.contains(junk))
    }

    func testBadBoxesAndFramesGiveTypedErrors() throws {
        let frame = Image(width: 64, height: 48, fill: 90)
        for params in [OneStreamParameters.openCVCompatible, .corrected] {
            let t = try OneStreamTracker(model: OneStreamTrackerTests.models["still"]!, parameters: params)
            XCTAssertThrowsError(try t.update(frame: frame)) { XCTAssert($0 is TrackingError) }  // before initialize
            for box in [BoundingBox(x: 10, y: 10, width: 0, height: 5), BoundingBox(x: 10, y: 10, width: -4, height: 5),
                        BoundingBox(x: .nan, y: 10, width: 5, height: 5), BoundingBox(x: 10, y: 10, width: .infinity, height: 5),
                        BoundingBox(x: 100, y: 10, width: 5, height: 5), BoundingBox(x: -20, y: -20, width: 5, height: 5)] {
                XCTAssertThrowsError(try t.initialize(frame: frame, box: box), "\(params.mode) \(box)") { XCTAssert($0 is TrackingError) }
            }
            XCTAssertThrowsError(try t.initialize(frame: Image(width: 0, height: 0), box: BoundingBox(x: 0, y: 0, width: 1, height: 1)))
            XCTAssertThrowsError(try t.initialize(frame: Image(width: 8, height: 8, channels: 1), box: BoundingBox(x: 0, y: 0, width: 4, height: 4)))
            // A sub-pixel box: OpenCV's integer Rect would be empty; the corrected mode tracks it.
            let tiny = BoundingBox(x: 10.2, y: 10.2, width: 0.6, height: 0.6)
            if params.mode == .openCVCompatible {
                XCTAssertThrowsError(try t.initialize(frame: frame, box: tiny))
            } else {
                try t.initialize(frame: frame, box: tiny)
                _ = try t.update(frame: frame)
            }
            // Tiny, huge and mismatched frames after a valid init never trap.
            try t.initialize(frame: frame, box: BoundingBox(x: 20, y: 10, width: 12, height: 20))
            for f in [Image(width: 1, height: 1), Image(width: 2000, height: 30, fill: 255), frame] {
                do { _ = try t.update(frame: f) } catch { XCTAssert(error is TrackingError && params.mode == .openCVCompatible, "\(error)") }
            }
        }
    }

    /// The corrected mode on a model that drifts out of the frame: the box stays inside the frame
    /// (with the margin), its size changes by at most the bound per frame, and it never throws.
    func testCorrectedModeClampsAndBoundsTheBox() throws {
        let frames = try TrackingFixtures.frames("OTB_Crossing", limit: 60)
        let W = Double(frames[0].width), H = Double(frames[0].height)
        for name in ["drift", "driftback", "flat"] {
            let params = OneStreamParameters.corrected
            let t = try OneStreamTracker(model: OneStreamTrackerTests.models[name]!, parameters: params)
            var prev = try TrackingFixtures.groundTruth("OTB_Crossing")[0]
            try t.initialize(frame: frames[0], box: prev)
            var touched = false
            for f in frames.dropFirst() {
                let r = try t.update(frame: f)
                let b = r.box
                XCTAssertEqual(r.state, .tracking)
                XCTAssert(b.x >= 0 && b.y >= 0 && b.x <= W - params.clipMargin && b.y <= H - params.clipMargin, "\(name): \(b)")
                XCTAssert(b.x + b.width <= W + 1e-9 && b.y + b.height <= H + 1e-9, "\(name): \(b)")
                XCTAssert(b.width >= params.clipMargin && b.height >= params.clipMargin, "\(name): \(b)")
                XCTAssert(b.width <= prev.width * params.maxScaleChange + 1e-9 && b.height <= prev.height * params.maxScaleChange + 1e-9, "\(name): \(prev) → \(b)")
                let edge = b.x == 0 || b.y == 0 || b.x == W - params.clipMargin || b.y == H - params.clipMargin
                    || b.x + b.width == W || b.y + b.height == H
                // Shrinking is bounded too, except where the clip to the frame cuts the box.
                if !edge { XCTAssert(b.width >= prev.width / params.maxScaleChange - 1e-9, "\(name): \(prev) → \(b)") }
                if edge { touched = true }
                prev = b
            }
            XCTAssertTrue(touched, "\(name): the drifting box should reach the frame edge")
        }
        // Lost everywhere: the init box is held and reported lost.
        let t = try OneStreamTracker(model: OneStreamTrackerTests.models["lost"]!, parameters: .corrected)
        let box = BoundingBox(x: 200.5, y: 150.25, width: 17.5, height: 50)
        try t.initialize(frame: frames[0], box: box)
        for f in frames.prefix(10) {
            let r = try t.update(frame: f)
            XCTAssertEqual(r.box, box)
            XCTAssertEqual(r.state, .lost)
            XCTAssertEqual(r.rawScore, 0.15 * Double(t.lastScoreMap.max()! / 0.15), accuracy: 1e-6)
        }
    }

    /// `TrackerLoader` turns an .onnx path into one-stream trackers: OpenCV-compatible for files
    /// without metadata, corrected for files with it, `--mode` (nanoTrackMode) overriding.
    func testTrackerLoaderLoadsOnnxFiles() throws {
        let plain = try TrackerLoader.load(model: OneStreamFixtures.path("still"))()
        XCTAssertEqual((plain as? OneStreamTracker)?.parameters.mode, .openCVCompatible)
        let meta = try TrackerLoader.load(model: OneStreamFixtures.path("still", metadata: true))()
        XCTAssertEqual((meta as? OneStreamTracker)?.parameters.mode, .corrected)
        let forced = try TrackerLoader.load(model: OneStreamFixtures.path("still", metadata: true), options: TrackerOptions(nanoTrackMode: .openCVCompatible))()
        XCTAssertEqual((forced as? OneStreamTracker)?.parameters.mode, .openCVCompatible)
        let explicit = try TrackerLoader.load(model: OneStreamFixtures.path("still"), options: TrackerOptions(oneStreamMode: .corrected))()
        XCTAssertEqual((explicit as? OneStreamTracker)?.parameters.mode, .corrected)
        // NanoTrack folders still load.
        XCTAssertTrue(try TrackerLoader.load(model: TrackingFixtures.model("v2"))() is NanoTracker)
        // Through the factory, a tracker runs.
        let frames = try TrackingFixtures.frames("OTB_Crossing", limit: 3)
        try meta.initialize(frame: frames[0], box: try TrackingFixtures.groundTruth("OTB_Crossing")[0])
        XCTAssertEqual(try meta.update(frame: frames[1]).state, .tracking)
    }
}
