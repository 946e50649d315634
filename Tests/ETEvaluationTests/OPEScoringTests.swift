import ETData
import XCTest
@testable import ETEvaluation

/// Every rule of the protocol doc §1–3, each with a value worked out by hand in the comment.
final class OPEScoringTests: XCTestCase {
    let g10 = Box4(10, 10, 10, 10)

    func score(_ pred: [Box4], _ gt: [Box4], visible: [Bool]? = nil, kind: DatasetKind = .otb,
               variant: OPEVariant = .pytracking) throws -> OPEScoring.Curves {
        let e = try OPEScoring.frameErrors(prediction: pred, groundTruth: gt, visible: visible,
                                           rules: kind.opeRules, variant: variant, sequence: "s")
        return try OPEScoring.curves(e, rules: kind.opeRules, sequence: "s")
    }

    func testThresholdsAreTheNumpyValues() {
        XCTAssertEqual(OPEScoring.overlapThresholds.count, 21)
        XCTAssertEqual(OPEScoring.overlapThresholds[3], 0.15000000000000002)   // arange(0,1.05,0.05)[3]
        XCTAssertEqual(OPEScoring.overlapThresholds[20], 1.0)
        XCTAssertEqual(OPEScoring.centerThresholds.count, 51)
        XCTAssertEqual(OPEScoring.normalizedThresholds[20], 0.2)
        XCTAssertEqual(GOT10kScoring.thresholds[75], 0.75)
    }

    func testBoxMeasures() {
        // tl=(5,5), br=min(9,14)=(9,9), sz=5x5=25, union=100+100-25=175.
        XCTAssertEqual(BoxMetrics.pixelIoU(Box4(0, 0, 10, 10), Box4(5, 5, 10, 10)), 25.0 / 175.0)
        // Centres (4.5,4.5) and (9.5,9.5): sqrt(50).
        XCTAssertEqual(BoxMetrics.centerError(Box4(0, 0, 10, 10), Box4(5, 5, 10, 10)), 50.0.squareRoot(), accuracy: 1e-12)
        // Divided by GT (10,10): (0.45,0.45) vs (0.95,0.95): sqrt(0.5).
        XCTAssertEqual(BoxMetrics.normalizedCenterError(Box4(0, 0, 10, 10), Box4(5, 5, 10, 10)), 0.5.squareRoot(), accuracy: 1e-12)
        // Disjoint: 0. No clipping: a box wholly outside the image still scores against an outside GT.
        XCTAssertEqual(BoxMetrics.pixelIoU(Box4(0, 0, 10, 10), Box4(50, 50, 10, 10)), 0)
        XCTAssertEqual(BoxMetrics.pixelIoU(Box4(-30, -30, 10, 10), Box4(-30, -30, 10, 10)), 1)
        // 0/0 is NaN (only possible on invalid-GT frames).
        XCTAssertTrue(BoxMetrics.pixelIoU(Box4(1, 1, 0, 0), Box4(1, 1, 0, 0)).isNaN)
        // Real-valued boxes: pixel form equals the continuous form.
        let a = Box4(1.25, 2.5, 10.75, 7.5), b = Box4(3.5, 1.0, 8.25, 12.0)
        let cont = (min(a.x + a.w, b.x + b.w) - max(a.x, b.x)) * (min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
        XCTAssertEqual(BoxMetrics.pixelIoU(a, b), cont / (a.w * a.h + b.w * b.h - cont), accuracy: 1e-15)
    }

    func testFrameZeroIsReplacedByGroundTruthAndCounted() throws {
        // IoU [1 (frame 0 := GT), 0]; centre error frame 1 = 20·√2 ≈ 28.3 > 20.
        let c = try score([Box4(0, 0, 1, 1), Box4(30, 30, 10, 10)], [g10, g10])
        XCTAssertEqual(c.success, [Float](repeating: 0.5, count: 20) + [0])
        XCTAssertEqual(c.precision[20], 0.5)
        let s = OPESummary(sequences: [c])
        XCTAssertEqual(s.auc, 20 * 50.0 / 21, accuracy: 1e-9)   // 47.619…
        XCTAssertEqual(s.op50, 50); XCTAssertEqual(s.op75, 50); XCTAssertEqual(s.precision, 50)
    }

    func testInvalidGroundTruthInBothVariants() throws {
        // Frame 1 GT touches the left border (x = 0): invalid for pytracking, valid for ostrack.
        let gt = [g10, Box4(0, 5, 10, 10), g10]
        let pred = [g10, Box4(0, 5, 10, 10), g10]
        let p = try score(pred, gt, variant: .pytracking)
        // IoU [1, −1, 1]; centre [0, Inf, 0]; normalised [0, −1 (hit), 0].
        XCTAssertEqual(p.success[10], Float(2) / 3)
        XCTAssertEqual(p.precision[20], Float(2) / 3)
        XCTAssertEqual(p.normalizedPrecision[20], 1)
        XCTAssertEqual(p.normalizedPrecision[0], 1)   // −1 ≤ 0: a hit even at threshold 0
        let o = try score(pred, gt, variant: .ostrack)
        XCTAssertEqual(o.success[10], 1); XCTAssertEqual(o.precision[20], 1)
        // Zero width is invalid in both; the denominator stays 3 frames.
        let z = try score(pred, [g10, Box4(5, 5, 0, 10), g10], variant: .ostrack)
        XCTAssertEqual(z.success[0], Float(2) / 3)
        XCTAssertEqual(z.averageOverlap, 1)   // mean over valid frames only
        // IoU −1 never counts, even at t = 0 (strict >).
        XCTAssertEqual(z.success[0], Float(2) / 3)
    }

    func testLaSOTAndLaSOTExtInvisibleFrames() throws {
        let gt = [g10, g10, g10], pred = gt, vis = [true, false, true]
        let l = try score(pred, gt, visible: vis, kind: .lasot)
        // lasot: frame 1 IoU −1, centre +Inf, normalised +Inf (the override) → all three 2/3.
        XCTAssertEqual(l.success[10], Float(2) / 3)
        XCTAssertEqual(l.precision[20], Float(2) / 3)
        XCTAssertEqual(l.normalizedPrecision[20], Float(2) / 3)
        let x = try score(pred, gt, visible: vis, kind: .lasotExt)
        // lasot_extension_subset: normalised −1 → a hit.
        XCTAssertEqual(x.success[10], Float(2) / 3)
        XCTAssertEqual(x.precision[20], Float(2) / 3)
        XCTAssertEqual(x.normalizedPrecision[20], 1)
    }

    func testUAV123NaNRows() throws {
        let gt = [g10, .nan, g10]
        // Frame 1: zero-size prediction is not carried forward (GT NaN) and the frame is invalid:
        // IoU −1 (miss), centre −1 (hit for uav), normalised −1 (hit).
        let u = try score([g10, Box4(0, 0, 0, 0), g10], gt, kind: .uav123)
        XCTAssertEqual(u.success[10], Float(2) / 3)
        XCTAssertEqual(u.precision[20], 1)
        XCTAssertEqual(u.normalizedPrecision[20], 1)
        // Any other dataset raises on NaN ground truth.
        XCTAssertThrowsMessage(try score([g10, g10, g10], gt, kind: .otb), contains: ["NaN in the ground truth", "frame 1"])
        XCTAssertThrowsMessage(try score([g10, g10, g10], gt, kind: .lasot), contains: ["NaN in the ground truth"])
    }

    func testZeroSizePredictionsCarryForward() throws {
        // Rows 2 and 3 inherit row 1 = (12,10,10,10): tl=(12,10), br=(19,19), sz=8x10=80,
        // union=200−80=120 → IoU 2/3. IoUs [1, 2/3, 2/3, 2/3].
        let pred = [g10, Box4(12, 10, 10, 10), Box4(0, 0, 0, 0), Box4(5, 5, 0, 3)]
        let c = try score(pred, [g10, g10, g10, g10])
        XCTAssertEqual(c.success[13], 1)      // t = 0.65
        XCTAssertEqual(c.success[14], 0.25)   // t = 0.70
        let e = try OPEScoring.frameErrors(prediction: pred, groundTruth: [g10, g10, g10, g10], visible: nil,
                                           rules: DatasetKind.otb.opeRules, variant: .pytracking, sequence: "s")
        XCTAssertEqual(e.center, [0, 2, 2, 2])
    }

    func testShortAndLongResultFiles() throws {
        let gt = [g10, g10, g10]
        // Longer: truncated.
        XCTAssertEqual(try score([g10, g10, g10, Box4(0, 0, 1, 1), .zero], gt).success[19], 1)
        // Shorter (non-LaSOT): padded with zero rows *after* the carry-forward, so row 2 scores 0
        // even though row 1 (zero-size) was patched: IoUs [1, 1, 0].
        let s = try score([g10, Box4(0, 0, 0, 0)], gt)
        XCTAssertEqual(s.success[10], Float(2) / 3)
        XCTAssertEqual(s.precision[20], Float(2) / 3)   // centre (−0.5,−0.5) vs (14.5,14.5): 21.2 px, a miss at 20
        XCTAssertEqual(s.precision[22], 1)
        // LaSOT: shorter raises, longer is truncated.
        XCTAssertThrowsMessage(try score([g10, g10], gt, visible: [true, true, true], kind: .lasot), contains: ["2 result rows but 3"])
        XCTAssertEqual(try score([g10, g10, g10, g10], gt, visible: [true, true, true], kind: .lasot).success[10], 1)
    }

    func testInvalidPredictionsAbortNamingTheFrame() {
        XCTAssertThrowsMessage(try score([g10, Box4(.nan, 1, 2, 3)], [g10, g10]), contains: ["frame 1", "line 2", "invalid result"])
        XCTAssertThrowsMessage(try score([g10, g10, Box4(1, 1, -2, 3)], [g10, g10, g10]), contains: ["frame 2", "invalid result"])
        // Even on frame 0 (which would be replaced by the GT): the check comes first.
        XCTAssertThrowsMessage(try score([Box4(1, 1, 2, -3), g10], [g10, g10]), contains: ["frame 0"])
    }

    func testSequencesHaveEqualWeight() throws {
        // A: 2 frames, both hits (1.0). B: 4 frames, frame 0 + one hit (0.5). Mean 0.75, not 4/6.
        let a = try score([g10, g10], [g10, g10])
        let b = try score([g10, g10, Box4(50, 50, 5, 5), Box4(50, 50, 5, 5)], [g10, g10, g10, g10])
        XCTAssertEqual(OPESummary(sequences: [a, b]).op50, 75, accuracy: 1e-9)
        // A perfect tracker: AUC = 20/21 (the t = 1 point is 0).
        XCTAssertEqual(OPESummary(sequences: [a]).auc, 2000.0 / 21, accuracy: 1e-9)
    }

    func testLegacyDenominatorUsesValidFrames() throws {
        var rules = DatasetKind.otb.opeRules
        rules.legacyValidFrameDenominator = true
        let e = try OPEScoring.frameErrors(prediction: [g10, g10, g10], groundTruth: [g10, Box4(5, 5, 0, 0), g10],
                                           visible: nil, rules: rules, variant: .ostrack, sequence: "s")
        XCTAssertEqual(try OPEScoring.curves(e, rules: rules, sequence: "s").success[10], 1)   // 2/2
        XCTAssertEqual(try OPEScoring.curves(e, rules: DatasetKind.otb.opeRules, sequence: "s").success[10], Float(2) / 3)
    }

    func testMultiRunAveragingHappensPerSequenceFirst() throws {
        let hit = try score([g10, g10], [g10, g10])
        let half = try score([g10, Box4(50, 50, 5, 5)], [g10, g10])
        let merged = OPEScoring.mergeRuns([hit, half])
        XCTAssertEqual(merged.success[10], 0.75)
    }
}

final class GOT10kScoringTests: XCTestCase {
    func testClippingAsTheToolkit() {
        let bound = ImageSize(width: 100, height: 100)
        // (90,90,20,20) → (90,90,10,10): identical to the GT → 100/(100+ε) = 1.
        XCTAssertEqual(BoxMetrics.got10kIoU(Box4(90, 90, 20, 20), Box4(90, 90, 10, 10), bound: bound), 1)
        // Without clipping: 100 / (400 + 100 − 100) = 0.25.
        XCTAssertEqual(BoxMetrics.got10kIoU(Box4(90, 90, 20, 20), Box4(90, 90, 10, 10), bound: nil), 0.25, accuracy: 1e-15)
        // x clipped from −10 to 0, w = clip(20, 0, 100 − 0) stays 20 (the toolkit does not shrink it):
        // (0,0,20,10) vs (0,0,10,10): 100 / 200 = 0.5.
        XCTAssertEqual(BoxMetrics.got10kIoU(Box4(-10, 0, 20, 10), Box4(0, 0, 10, 10), bound: bound), 0.5, accuracy: 1e-15)
        // Zero area: 0, not NaN.
        XCTAssertEqual(BoxMetrics.got10kIoU(Box4(5, 5, 0, 0), Box4(5, 5, 0, 0), bound: bound), 0)
    }

    func testFirstFrameAndAbsentFramesExcluded() throws {
        let gt = [Box4](repeating: Box4(0, 0, 10, 10), count: 4)
        // Frame 0 ignored; frame 3 has cover 0. (5,0,10,10) vs (0,0,10,10): 50/150 = 1/3.
        let pred = [Box4(50, 50, 1, 1), Box4(0, 0, 10, 10), Box4(5, 0, 10, 10), Box4(50, 50, 1, 1)]
        let ious = try GOT10kScoring.ious(prediction: pred, groundTruth: gt, cover: [8, 8, 3, 0],
                                          bound: ImageSize(width: 100, height: 100), sequence: "s")
        XCTAssertEqual(ious.count, 2)
        XCTAssertEqual(ious[0], 1); XCTAssertEqual(ious[1], 1.0 / 3, accuracy: 1e-15)
        let s = GOT10kScoring.Summary(ious: ious)
        XCTAssertEqual(s.ao, 200.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(s.sr50, 50); XCTAssertEqual(s.sr75, 50)
        XCTAssertThrowsMessage(try GOT10kScoring.ious(prediction: Array(pred.prefix(3)), groundTruth: gt, cover: nil, bound: nil, sequence: "s"),
                               contains: ["3 result rows but 4"])
    }

    func testOverallAOIsFrameWeighted() {
        // Sequence A: IoUs [1,1,1]; B: [0]. Frame-weighted AO = 3/4, not the sequence mean 1/2.
        XCTAssertEqual(GOT10kScoring.Summary(ious: [1, 1, 1] + [0]).ao, 75)
    }

    func testSpeedIgnoresNonPositiveAndNaNTimes() {
        let s = GOT10kScoring.Summary(ious: [1], times: [0.5, 0, .nan, 0.25, -1])
        XCTAssertEqual(s.speedFPS, 3)   // mean(1/0.5, 1/0.25)
    }
}

/// Cross-check with the GOT-10k toolkit's own `rect_iou` (fixture generated from the PyPI package).
final class GOT10kToolkitCrossCheckTests: XCTestCase {
    func testIoUMatchesTheToolkitOnRandomBoxes() {
        let bound = ImageSize(width: GOT10kToolkitFixture.bound.width, height: GOT10kToolkitFixture.bound.height)
        var maxFree = 0.0, maxClip = 0.0
        for r in GOT10kToolkitFixture.rows {
            let p = Box4(r[0], r[1], r[2], r[3]), g = Box4(r[4], r[5], r[6], r[7])
            maxFree = max(maxFree, abs(BoxMetrics.got10kIoU(p, g, bound: nil) - r[8]))
            maxClip = max(maxClip, abs(BoxMetrics.got10kIoU(p, g, bound: bound) - r[9]))
        }
        XCTAssertEqual(maxFree, 0, "max |ours - got10k| without bound over \(GOT10kToolkitFixture.rows.count) pairs")
        XCTAssertEqual(maxClip, 0, "max |ours - got10k| with bound \(bound)")
    }
}
