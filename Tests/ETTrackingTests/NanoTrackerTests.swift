import ETData
import ETImage
@testable import ETTracking
import XCTest

final class NanoTrackerTests: XCTestCase {
    /// OpenCV's cv2.TrackerNano (run by scripts/reference/opencv_trackernano.py) and our
    /// OpenCV-compatible mode give the same boxes on a real sequence.
    func testOpenCVCompatibleModeMatchesCv2TrackerNano() throws {
        let openCV = try TrackingFixtures.referenceOpenCV()
        for v in ["v2", "v1"] {
            let name = "OTB_Crossing"
            let gt = try TrackingFixtures.groundTruth(name)
            let initBox = BoundingBox(x: gt[0].x.rounded(.towardZero), y: gt[0].y.rounded(.towardZero),
                                      width: gt[0].width.rounded(.towardZero), height: gt[0].height.rounded(.towardZero))
            let script = TrackingFixtures.repoRoot.appendingPathComponent("scripts/reference/opencv_trackernano.py").path
            let (status, out) = try TrackingFixtures.run([TrackingFixtures.python, script, "--model", TrackingFixtures.model(v),
                                                          "--sequence", TrackingFixtures.sequence(name), "--init", initBox.description])
            XCTAssertEqual(status, 0, "the OpenCV reference failed (is opencv-python-headless installed?)")
            let reference = out.split(whereSeparator: \.isNewline).map { BoundingBox(parsing: $0)! }
            let frames = try TrackingFixtures.frames(name)
            XCTAssertEqual(reference.count, frames.count)
            let tracker = try NanoTracker(model: TrackingFixtures.models[v]!, parameters: .openCVCompatible(version: openCV))
            try tracker.initialize(frame: frames[0], box: initBox)
            var ious = [1.0], identical = 1
            for i in 1..<frames.count {
                let r = try tracker.update(frame: frames[i])
                ious.append(r.box.iou(reference[i]))
                if r.box == reference[i] { identical += 1 }
            }
            let mean = ious.reduce(0, +) / Double(ious.count)
            let above = Double(ious.filter { $0 >= 0.9 }.count) / Double(ious.count)
            print("\(v) \(name): mean IoU vs cv2.TrackerNano (OpenCV \(openCV)) \(mean), IoU>=0.9 on \(above), identical boxes \(identical)/\(frames.count)")
            XCTAssertGreaterThanOrEqual(mean, 0.98, "\(v): mean IoU against OpenCV")
            XCTAssertGreaterThanOrEqual(above, 0.95, "\(v): share of frames with IoU >= 0.9")
        }
    }

    /// Confidence falls and the state turns lost when the target disappears: black frames, the
    /// target painted over, and frames cropped so the target is outside the view.
    func testConfidenceDropsWhenTargetIsGone() throws {
        let name = "OTB_Crossing"
        let frames = try TrackingFixtures.frames(name, limit: 80)
        let gt = try TrackingFixtures.groundTruth(name)
        let cut = 40
        func black(_ f: Image, _ i: Int) -> Image { Image(width: f.width, height: f.height) }
        func painted(_ f: Image, _ i: Int) -> Image {
            var g = f
            let b = gt[i], m = Int(0.5 * max(b.width, b.height))
            ImageOps.fillRect(&g, x: Int(b.x) - m, y: Int(b.y) - m, width: Int(b.width) + 2 * m, height: Int(b.height) + 2 * m,
                              color: ImageOps.roundedMean(f))
            return g
        }
        /// The half of the frame away from the target, stretched to full size: the target has left the view.
        func cropped(_ f: Image, _ i: Int) -> Image {
            let leftHalf = gt[i].centerX > Double(f.width) / 2
            return ImageOps.cropResize(f, x: leftHalf ? 0 : f.width / 2, y: 0, width: f.width / 2, height: f.height,
                                       padding: [0], outWidth: f.width, outHeight: f.height)
        }
        for v in ["v1", "v2", "v3"] {
            // The OpenCV-compatible mode of each behaviour (5.1 and 5.0 track differently, and each has its own calibration).
            let variants: [(String, NanoTrackParameters)] = [("opencv-5.1", .openCVCompatible(version: .v5_1)),
                                                             ("opencv-5.0", .openCVCompatible(version: .v5_0)),
                                                             ("corrected", .corrected(for: TrackingFixtures.models[v]!.version))]
            for (mode, params) in variants {
                for (label, edit) in [("black", black), ("painted", painted), ("cropped", cropped)] as [(String, (Image, Int) -> Image)] {
                    let tracker = try NanoTracker(model: TrackingFixtures.models[v]!, parameters: params)
                    try tracker.initialize(frame: frames[0], box: gt[0])
                    var present: [TrackingResult] = [], gone: [TrackingResult] = []
                    for i in 1..<frames.count {
                        if i < cut { present.append(try tracker.update(frame: frames[i])) }
                        else { gone.append(try tracker.update(frame: edit(frames[i], i))) }
                    }
                    let meanPresent = present.map(\.confidence).reduce(0, +) / Double(present.count)
                    let meanGone = gone.map(\.confidence).reduce(0, +) / Double(gone.count)
                    let lostShare = Double(gone.filter { $0.state == .lost }.count) / Double(gone.count)
                    let trackingPresent = Double(present.filter { $0.state == .tracking }.count) / Double(present.count)
                    print("\(v) \(mode) \(label): confidence present \(meanPresent), gone \(meanGone); lost \(lostShare) of gone frames; tracking \(trackingPresent) of present")
                    XCTAssertGreaterThan(trackingPresent, 0.9, "\(v) \(mode) \(label): present frames should be tracking")
                    if label == "cropped" && mode == "opencv-5.1" && v != "v3" {
                        // OpenCV 5.1's TrackerNano (its fixed scale penalty) settles on another pedestrian of the
                        // stretched half-frame within ~5 frames, and template similarity cannot tell a same-class
                        // distractor from the target: measured here (v2) 4 lost frames, then mostly tracking; the
                        // 5.0 behaviour, whose box wanders, stays below tracking. What 5.1 still guarantees: the
                        // jump is reported (no confident frame among the first 4) and the confidence falls.
                        XCTAssertTrue(gone.prefix(4).allSatisfy { $0.state != .tracking }, "\(v) \(mode) \(label): the first frames without the target must not be tracking: \(gone.prefix(4).map(\.state))")
                        XCTAssertLessThan(meanGone, meanPresent, "\(v) \(mode) \(label): confidence should fall")
                        continue
                    }
                    XCTAssertLessThan(meanGone, 0.5 * meanPresent, "\(v) \(mode) \(label): confidence should drop")
                    XCTAssertTrue(gone.prefix(8).allSatisfy { $0.state == .lost }, "\(v) \(mode) \(label): the first frames without the target should be lost: \(gone.prefix(8).map(\.state))")
                    if label == "cropped" && params.mode == .openCVCompatible {
                        // OpenCV's box (reproduced here) moves on to a distractor; it must not be reported as a confident track.
                        let notTracking = Double(gone.filter { $0.state != .tracking }.count) / Double(gone.count)
                        XCTAssertGreaterThan(notTracking, 0.75, "\(v) \(mode) \(label): distractor frames should not be confident")
                    } else {
                        XCTAssertGreaterThan(lostShare, label == "black" ? 0.99 : 0.5, "\(v) \(mode) \(label): state should turn lost")
                    }
                    // The raw score alone does not drop this much (OpenCV's complaint); we keep it available.
                    XCTAssertTrue(gone.allSatisfy { $0.box.width >= 0 && $0.box.height >= 0 && $0.box.x.isFinite })
                }
            }
        }
    }

    /// The corrected mode holds the last good box while the target is lost.
    func testCorrectedModeHoldsBoxWhileLost() throws {
        let frames = try TrackingFixtures.frames("OTB_Crossing", limit: 30)
        let gt = try TrackingFixtures.groundTruth("OTB_Crossing")
        let tracker = try NanoTracker(model: TrackingFixtures.models["v2"]!, parameters: .corrected(for: .v2))
        try tracker.initialize(frame: frames[0], box: gt[0])
        var last = try tracker.update(frame: frames[1])
        for _ in 0..<20 {
            let r = try tracker.update(frame: Image(width: frames[0].width, height: frames[0].height))
            XCTAssertEqual(r.state, .lost)
            XCTAssertEqual(r.box, last.box, "the box must not move or grow while lost")
            last = r
        }
        // And tracking resumes when the target is back.
        var resumed = 0
        for i in 22..<30 { if try tracker.update(frame: frames[i]).state == .tracking { resumed += 1 } }
        XCTAssertGreaterThan(resumed, 5)
    }

    /// v3 (15x15 head, which OpenCV cannot run) tracks a real sequence.
    func testV3TracksARealSequence() throws {
        let model = TrackingFixtures.models["v3"]!
        XCTAssertEqual(model.scoreSize, 15)
        XCTAssertEqual(model.featureChannels, 96)
        XCTAssertEqual(model.version, .v3)
        XCTAssertEqual(TrackingFixtures.models["v2"]!.scoreSize, 16)
        let frames = try TrackingFixtures.frames("OTB_Crossing")
        let gt = try TrackingFixtures.groundTruth("OTB_Crossing")
        let tracker = try NanoTracker(model: model)
        try tracker.initialize(frame: frames[0], box: gt[0])
        var ious: [Double] = []
        for i in 1..<frames.count { ious.append(try tracker.update(frame: frames[i]).box.iou(gt[i])) }
        let mean = ious.reduce(0, +) / Double(ious.count)
        print("v3 OTB_Crossing mean IoU vs ground truth: \(mean)")
        XCTAssertGreaterThan(mean, 0.6)
    }

    /// Trackers sharing one model on two threads give the same boxes as run one after another.
    func testSharedModelAcrossThreads() throws {
        let frames = try TrackingFixtures.frames("OTB_Crossing", limit: 25)
        let gt = try TrackingFixtures.groundTruth("OTB_Crossing")
        let model = TrackingFixtures.models["v2"]!
        func track(_ box: BoundingBox) throws -> [BoundingBox] {
            let t = try NanoTracker(model: model)
            try t.initialize(frame: frames[0], box: box)
            return try frames.dropFirst().map { try t.update(frame: $0).box }
        }
        let boxes = [gt[0], BoundingBox(x: 40, y: 60, width: 50, height: 40)]
        let sequential = try boxes.map(track)
        var parallel = [[BoundingBox]](repeating: [], count: 2)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = try! track(boxes[i])
            lock.lock(); parallel[i] = r; lock.unlock()
        }
        XCTAssertEqual(parallel, sequential)
    }

    func testBadInputsGiveClearErrors() throws {
        let frame = try TrackingFixtures.frames("OTB_Crossing", limit: 1)[0]
        let tracker = try NanoTracker(model: TrackingFixtures.models["v2"]!)
        XCTAssertThrowsError(try tracker.update(frame: frame)) { XCTAssertTrue("\($0)".contains("before initialize")) }
        let bad: [(BoundingBox, String)] = [
            (BoundingBox(x: .nan, y: 10, width: 20, height: 20), "not finite"),
            (BoundingBox(x: 10, y: 10, width: .infinity, height: 20), "not finite"),
            (BoundingBox(x: 10, y: 10, width: 0, height: 20), "empty"),
            (BoundingBox(x: 10, y: 10, width: 20, height: -5), "empty"),
            (BoundingBox(x: 5000, y: 10, width: 20, height: 20), "outside"),
            (BoundingBox(x: -100, y: -100, width: 50, height: 50), "outside"),
            (BoundingBox(x: 10, y: 10, width: 0.5, height: 0.5), "smaller than one pixel"),
        ]
        for (box, words) in bad {
            XCTAssertThrowsError(try tracker.initialize(frame: frame, box: box), "\(box)") { e in
                XCTAssertTrue("\(e)".contains(words), "«\(e)» should say «\(words)»")
            }
        }
        XCTAssertThrowsError(try tracker.initialize(frame: Image(width: 0, height: 0), box: BoundingBox(x: 0, y: 0, width: 1, height: 1)))
        XCTAssertThrowsError(try tracker.initialize(frame: Image(width: 20, height: 20, channels: 1), box: BoundingBox(x: 0, y: 0, width: 5, height: 5))) {
            XCTAssertTrue("\($0)".contains("3 channels"))
        }
        // Boxes partly outside the frame, thin boxes and tiny frames are fine.
        try tracker.initialize(frame: frame, box: BoundingBox(x: -20, y: -20, width: 40, height: 40))
        _ = try tracker.update(frame: frame)
        try tracker.initialize(frame: frame, box: BoundingBox(x: 10, y: 10, width: 1, height: 200))
        _ = try tracker.update(frame: frame)
        let tiny = Image(width: 8, height: 6, fill: 90)
        try tracker.initialize(frame: tiny, box: BoundingBox(x: 1, y: 1, width: 3, height: 3))
        let r = try tracker.update(frame: tiny)
        XCTAssertTrue(r.box.x.isFinite && r.box.width >= 0)
        XCTAssertThrowsError(try NanoTrackModel(directory: "/nonexistent")) { XCTAssertTrue("\($0)".contains("/nonexistent")) }
        XCTAssertThrowsError(try NanoTrackModel(directory: TrackingFixtures.shared.path)) { XCTAssertTrue("\($0)".contains("backbone.onnx")) }
    }
}
