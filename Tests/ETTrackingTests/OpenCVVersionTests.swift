import ETImage
@testable import ETTracking
import XCTest

/// The OpenCV release an OpenCV-compatible tracker reproduces: parsing, refusals, and the 5.1
/// changes that do not need cv2 to be shown (the cv2 comparisons are in NanoTrackerTests and
/// OneStreamTrackerTests, run against each pinned release by scripts/compare/opencv_versions.sh).
final class OpenCVVersionTests: XCTestCase {
    func testParsesReleasesAndPipVersions() throws {
        XCTAssertEqual(try OpenCVVersion("5.1"), .v5_1)
        XCTAssertEqual(try OpenCVVersion("5.1.0.95"), .v5_1)
        XCTAssertEqual(try OpenCVVersion("5.0.0"), .v5_0)
        XCTAssertEqual(try OpenCVVersion("4.14").behaviour, .v5_0)
        XCTAssertEqual(try OpenCVVersion("4.7").behaviour, .v5_0)
        XCTAssertEqual(OpenCVVersion.newest, .v5_1)
        XCTAssertEqual(NanoTrackParameters.openCVCompatible.openCVVersion, .newest)
        XCTAssertEqual(OneStreamParameters.openCVCompatible.openCVVersion, .newest)
        XCTAssertTrue(try OpenCVVersion("4.11").supportsTrackerVit)
        XCTAssertFalse(try OpenCVVersion("4.10").supportsTrackerVit)
    }

    func testUnsupportedVersionsAreNamed() {
        for text in ["4.6", "5.2", "6.0", "3.4"] {
            XCTAssertThrowsError(try OpenCVVersion(text)) { e in
                let m = "\(e)"
                XCTAssertTrue(m.contains("OpenCV \(text) is not supported") && m.contains("5.1 (the default)"), m)
            }
        }
        for text in ["", "five", "5", "5.x", "5..1", "-5.1"] {
            XCTAssertThrowsError(try OpenCVVersion(text)) { e in
                XCTAssertTrue("\(e)".contains("'\(text)'") || "\(e)".contains("not supported"), "\(e)")
            }
        }
    }

    /// OpenCV 5.1's clipRect, checked on hand-worked cases (C int arithmetic).
    func testClipRect() {
        let clip = { OneStreamTracker.clipRect($0, 100, 50, margin: 10) }
        XCTAssert(clip((20, 10, 30, 20)) == (20, 10, 30, 20))      // inside: unchanged
        XCTAssert(clip((-15, -5, 30, 20)) == (0, 0, 15, 15))       // x2 = 15, y2 = 15
        XCTAssert(clip((95, 45, 30, 20)) == (90, 40, 10, 10))      // x1 ≤ W − m, x2 ≤ W
        XCTAssert(clip((-50, -50, 20, 20)) == (0, 0, 10, 10))      // fully outside, top-left
        XCTAssert(clip((200, 80, 5, 5)) == (90, 40, 10, 10))       // fully outside, bottom-right
        XCTAssert(clip((10, 10, 3, 2)) == (10, 10, 10, 10))        // sides at least the margin
        XCTAssert(OneStreamTracker.clipRect((3, 2, 1, 1), 6, 4, margin: 10) == (0, 0, 6, 4))  // margin capped by the frame
    }

    /// The "drift" model moves the box right and down every frame. Before 5.1 it leaves the frame
    /// and the tracker throws where cv2.TrackerVit throws; 5.1 clips it, so it never throws and
    /// every box lies inside the frame with sides of at least 10.
    func testOpenCV51ClipsWhereOpenCV50Throws() throws {
        let model = OneStreamTrackerTests.models["drift"]!
        let frames = try TrackingFixtures.frames("OTB_Crossing")
        let initBox = try OneStreamFixtures.integerInitBox("OTB_Crossing")
        let old = try OneStreamTracker(model: model, parameters: .openCVCompatible(version: .v5_0))
        let new = try OneStreamTracker(model: model, parameters: .openCVCompatible(version: .v5_1))
        try old.initialize(frame: frames[0], box: initBox)
        try new.initialize(frame: frames[0], box: initBox)
        var threwAt: Int?
        var onEdge = 0
        for i in 1..<frames.count {
            if threwAt == nil {
                do { _ = try old.update(frame: frames[i]) } catch is TrackingError { threwAt = i }
            }
            let b = try new.update(frame: frames[i]).box
            let W = Double(frames[i].width), H = Double(frames[i].height)
            XCTAssert(b.x >= 0 && b.y >= 0 && b.x + b.width <= W && b.y + b.height <= H && b.width >= 10 && b.height >= 10, "frame \(i): \(b)")
            if b.x + b.width == W || b.y + b.height == H { onEdge += 1 }
        }
        XCTAssertNotNil(threwAt, "the 5.0 tracker should leave the frame and throw")
        XCTAssertGreaterThan(onEdge, 10, "the 5.1 tracker should sit on the frame edge once the box drifts out")
    }

    func testTrackerVitOf49And410IsRefused() throws {
        let model = OneStreamTrackerTests.models["still"]!
        for text in ["4.9", "4.10"] {
            XCTAssertThrowsError(try OneStreamTracker(model: model, parameters: .openCVCompatible(version: try OpenCVVersion(text)))) { e in
                XCTAssertTrue("\(e)".contains("OpenCV \(text)'s TrackerVit"), "\(e)")
            }
        }
        XCTAssertNoThrow(try OneStreamTracker(model: model, parameters: .openCVCompatible(version: try OpenCVVersion("4.11"))))
    }

    /// The loader refuses an OpenCV version for a tracker that runs in the corrected mode.
    func testLoaderRefusesAVersionForTheCorrectedMode() throws {
        XCTAssertThrowsError(try TrackerLoader.load(model: TrackingFixtures.model("v3"), options: TrackerOptions(openCVVersion: .v5_0))) { e in
            XCTAssertTrue("\(e)".contains("applies to the OpenCV-compatible mode"), "\(e)")
        }
        XCTAssertNoThrow(try TrackerLoader.load(model: TrackingFixtures.model("v2"), options: TrackerOptions(openCVVersion: .v5_0)))
    }
}
