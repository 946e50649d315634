import ETData
import Foundation
import XCTest
@testable import ETEvaluation
import ETTracking

/// Small synthetic copies of each benchmark layout, with the quirks the readers must handle.
final class DatasetReaderTests: XCTestCase {
    func frames(_ t: TempDir, _ dir: String, _ n: Int, digits: Int = 8, ext: String = "jpg") {
        t.dir(dir)
        for i in 1...n { t.file("\(dir)/\(String(format: "%0\(digits)d", i)).\(ext)", "") }
    }
    func gtLines(_ n: Int, start: Int = 0) -> String { (0..<n).map { "\($0 + start + 1),2,10,10\n" }.joined() }

    func testLaSOTNestedLayoutVisibilityTestListAndAttributes() throws {
        let t = TempDir()
        for name in ["airplane-1", "airplane-2", "car-3"] {
            let cls = name.split(separator: "-")[0]
            frames(t, "\(cls)/\(name)/img", 4)
            t.file("\(cls)/\(name)/groundtruth.txt", gtLines(4))
            t.file("\(cls)/\(name)/full_occlusion.txt", "0,1,0,0\n")
            t.file("\(cls)/\(name)/out_of_view.txt", "0,0,0,1")
        }
        t.file("att/car-3.txt", "0,0,0,0,0,0,0,0,1,1,0,0,0,0\n")
        var all = try Dataset.load(.lasotExt, root: t.path)
        XCTAssertEqual(all.map(\.name), ["airplane-1", "airplane-2", "car-3"])
        XCTAssertEqual(all[0].absent, [false, true, false, true])
        XCTAssertEqual(all[2].attributes, ["SV", "FOC"])
        XCTAssertEqual(all[2].objectClass, "car")
        t.file("testing_set.txt", "car-3\nairplane-2\n")
        all = try Dataset.load(.lasot, root: t.path)
        XCTAssertEqual(all.map(\.name), ["car-3", "airplane-2"])
        t.file("car/car-3/out_of_view.txt", "0,0,0\n")
        XCTAssertThrowsMessage(try Dataset.load(.lasot, root: t.path), contains: ["car-3/out_of_view.txt", "3 flags but 4 frames"])
        t.file("car/car-3/out_of_view.txt", "0,0,x,0\n")
        XCTAssertThrowsMessage(try Dataset.load(.lasot, root: t.path), contains: ["out_of_view.txt:1:", "'x'"])
        XCTAssertThrowsMessage(try Dataset.load(.lasot, root: t.path, names: ["dog-9"]), contains: ["dog/dog-9", "not found"])
    }

    func testGOT10kLabelsResolutionAndTestSplit() throws {
        let t = TempDir()
        frames(t, "val/GOT-10k_Val_000001", 3)
        t.file("val/GOT-10k_Val_000001/groundtruth.txt", gtLines(3))
        t.file("val/GOT-10k_Val_000001/cover.label", "8\n0\n5\n")
        t.file("val/GOT-10k_Val_000001/absence.label", "0\n1\n0\n")
        t.file("val/GOT-10k_Val_000001/meta_info.ini", "[METAINFO]\nurl: x\nresolution: (1280, 720)\nobject_class: tiger\n")
        t.file("val/list.txt", "GOT-10k_Val_000001\n")
        let v = try Dataset.load(.got10k, root: t.path + "/val")
        XCTAssertEqual(v[0].cover, [8, 0, 5])
        XCTAssertEqual(v[0].absent, [false, true, false])
        XCTAssertEqual(v[0].imageSize, ImageSize(width: 1280, height: 720))
        XCTAssertEqual(v[0].objectClass, "tiger")
        // Test split: only the first box.
        frames(t, "test/GOT-10k_Test_000001", 5)
        t.file("test/GOT-10k_Test_000001/groundtruth.txt", "1,2,3,4\n")
        let s = try Dataset.load(.got10k, root: t.path + "/test")
        XCTAssertEqual(s[0].count, 5); XCTAssertEqual(s[0].groundTruth.count, 1)
        t.file("val/GOT-10k_Val_000001/meta_info.ini", "[METAINFO]\nresolution: 1280x\n")
        XCTAssertThrowsMessage(try Dataset.load(.got10k, root: t.path + "/val"), contains: ["meta_info.ini:2:", "resolution"])
    }

    func testOTBStartFramesInitOmitAndSeveralTargets() throws {
        let t = TempDir()
        frames(t, "David/img", 770, digits: 4)
        t.file("David/groundtruth_rect.txt", gtLines(471))        // frames 300 … 770
        frames(t, "Tiger1/img", 354, digits: 4)
        t.file("Tiger1/groundtruth_rect.txt", gtLines(354))
        frames(t, "Jogging/img", 5, digits: 4)
        t.file("Jogging/groundtruth_rect.1.txt", gtLines(5))
        t.file("Jogging/groundtruth_rect.2.txt", (0..<5).map { _ in "7\t8\t9\t10\n" }.joined())
        t.file("Jogging/attrs.txt", "IV, OCC, DEF\n")
        let all = try Dataset.load(.otb, root: t.path)
        XCTAssertEqual(all.map(\.name), ["David", "Jogging_1", "Jogging_2", "Tiger1"])
        let david = all[0]
        XCTAssertEqual(david.count, 471)
        XCTAssertEqual((david.framePaths[0] as NSString).lastPathComponent, "0300.jpg")
        XCTAssertEqual((david.framePaths.last! as NSString).lastPathComponent, "0770.jpg")
        let tiger = all[3]
        XCTAssertEqual(tiger.count, 349)
        XCTAssertEqual((tiger.framePaths[0] as NSString).lastPathComponent, "0006.jpg")
        XCTAssertEqual(tiger.groundTruth[0], BoundingBox(x: 6, y: 2, width: 10, height: 10))
        XCTAssertEqual(all[2].groundTruth[0], BoundingBox(x: 7, y: 8, width: 9, height: 10))
        XCTAssertEqual(all[1].attributes, ["IV", "OCC", "DEF"])
        XCTAssertEqual(try Dataset.load(.otb, root: t.path, names: ["Jogging_2"]).map(\.name), ["Jogging_2"])
    }

    func testUAV123NaNRowsSubRangesAndAttributes() throws {
        let t = TempDir()
        frames(t, "data_seq/UAV123/bird1", 10, digits: 6)
        frames(t, "data_seq/UAV123/boat1", 3, digits: 6)
        t.file("anno/UAV123/bird1_2.txt", "1,2,3,4\nNaN,NaN,NaN,NaN\n1,2,3,4\n")
        t.file("anno/UAV123/boat1.txt", gtLines(3))
        t.file("anno/UAV123/att/boat1.txt", "1,0,0,0,0,0,1,0,0,0,0,1\n")
        XCTAssertThrowsMessage(try Dataset.load(.uav123, root: t.path), contains: ["bird1_2.txt", "sub-range", "configSeqs.m"])
        t.file("configSeqs.m", "seqs = {struct('name','bird1_2','path','D:\\\\data_seq\\\\UAV123\\\\bird1\\\\','startFrame',5,'endFrame',7,'nz',6,'ext','jpg','init_rect',[0,0,0,0]),...\n}\n")
        let all = try Dataset.load(.uav123, root: t.path)
        XCTAssertEqual(all.map(\.name), ["bird1_2", "boat1"])
        XCTAssertEqual((all[0].framePaths[0] as NSString).lastPathComponent, "000005.jpg")
        XCTAssertEqual(all[0].count, 3)
        XCTAssertNil(all[0].groundTruth[1])
        XCTAssertEqual(all[1].attributes, ["SV", "OV", "SOB"])
        // The NaN row scores as an invalid frame under the uav rules.
        let e = try OPEScoring.frameErrors(prediction: all[0].groundTruth.box4.map { $0.hasNaN ? Box4(0, 0, 0, 0) : $0 },
                                           groundTruth: all[0].groundTruth.box4, visible: nil, rules: DatasetKind.uav123.opeRules,
                                           variant: .ostrack, sequence: "bird1_2")
        XCTAssertEqual(e.valid, [true, false, true])
    }

    func testTNL2K() throws {
        let t = TempDir()
        frames(t, "advSamp_Baseball_game_002-Done/imgs", 2, digits: 5, ext: "png")
        t.file("advSamp_Baseball_game_002-Done/groundtruth.txt", gtLines(2))
        t.file("advSamp_Baseball_game_002-Done/language.txt", "the player\n")
        let all = try Dataset.load(.tnl2k, root: t.path)
        XCTAssertEqual(all.count, 1); XCTAssertEqual(all[0].count, 2)
        XCTAssertEqual(DatasetKind.tnl2k.opeRules.tag, "tnl2k")
    }
}

final class ImportTests: XCTestCase {
    func testImportsPytrackingPysotAndGOT10kLayouts() throws {
        let t = TempDir()
        t.file("pt/seqA.txt", "1\t2\t3\t4\n5\t6\t7\t8\n")
        t.file("pt/seqA_time.txt", "0.01\n0.02\n")
        var s = try ResultImporter.importResults(from: t.path + "/pt", to: t.path + "/out/pt", layout: .pytracking)
        XCTAssertEqual(s.written[t.path + "/out/pt"], ["seqA"])
        XCTAssertEqual(try String(contentsOfFile: t.path + "/out/pt/seqA.txt", encoding: .utf8), "1,2,3,4\n5,6,7,8\n")
        XCTAssertEqual(try ResultFiles.readTimes(t.path + "/out/pt/seqA_time.txt"), [0.01, 0.02])

        t.file("pysot/SiamRPN/seqA.txt", "1.5,2,3,4\n")
        t.file("pysot/DaSiam/seqA.txt", "1,2,3,4\n")
        s = try ResultImporter.importResults(from: t.path + "/pysot", to: t.path + "/out/pysot", layout: .pysot)
        XCTAssertEqual(Set(s.written.keys), [t.path + "/out/pysot/SiamRPN", t.path + "/out/pysot/DaSiam"])

        t.file("g/seqA/seqA_001.txt", "1,2,3,4\n")
        t.file("g/seqA/seqA_002.txt", "2,2,3,4\n")
        t.file("g/seqA/seqA_time.txt", "0.5\n")
        s = try ResultImporter.importResults(from: t.path + "/g", to: t.path + "/out/g", layout: .got10k, allRepetitions: true)
        XCTAssertEqual(try String(contentsOfFile: t.path + "/out/g/run2/seqA.txt", encoding: .utf8), "2,2,3,4\n")

        t.file("bad/seqB.txt", "1,2,3\n")
        XCTAssertThrowsMessage(try ResultImporter.importResults(from: t.path + "/bad", to: t.path + "/out/bad", layout: .pytracking),
                               contains: ["bad/seqB.txt:1:", "expected 4 numbers"])
        var warnings: [String] = []
        let seq = TrackingSequence(name: "seqA", framePaths: ["a", "b", "c"], groundTruth: [nil, nil, nil])
        _ = try ResultImporter.importResults(from: t.path + "/pt", to: t.path + "/out/pt2", layout: .pytracking, sequences: [seq],
                                             warn: { warnings.append($0) })
        XCTAssertTrue(warnings.contains { $0.contains("2 rows for 3 frames") }, "\(warnings)")
    }

    func testScoresTheGOT10kToolkitLayoutWithRepetitions() throws {
        // Two repetitions of a 3-frame sequence: the IoUs of frames 1…2 of both are concatenated.
        let t = TempDir()
        t.file("r/s/s_001.txt", "0,0,10,10\n0,0,10,10\n5,0,10,10\n")
        t.file("r/s/s_002.txt", "0,0,10,10\n50,50,10,10\n0,0,10,10\n")
        let seq = TrackingSequence(name: "s", framePaths: ["0", "1", "2"], groundTruth: boxes([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]),
                                   imageSize: ImageSize(width: 100, height: 100))
        let r = try Scorer.score([TrackerResults(name: "x", runDirs: [t.path + "/r"])], sequences: [seq], kind: .got10k,
                                 options: .init(variant: .ostrack, scoringProtocol: .got10k))
        // IoUs [1, 1/3, 0, 1] → AO = (2 + 1/3) / 4.
        XCTAssertEqual(r.trackers[0].got10k!.ao, (2 + 1.0 / 3) / 4 * 100, accuracy: 1e-9)
        XCTAssertEqual(r.trackers[0].got10k!.sr50, 50)
    }

    func testOPEIgnoresGOT10kAbsenceLabelsButUsesLaSOTVisibility() throws {
        // pytracking passes no visibility for got10k: an absent frame with a valid GT box is scored.
        let t = TempDir()
        t.file("r/s.txt", "0,0,10,10\n0,0,10,10\n")
        var seq = TrackingSequence(name: "s", framePaths: ["0", "1"], groundTruth: boxes([[1, 1, 10, 10], [1, 1, 10, 10]]),
                                   absent: [false, true], cover: [8, 0])
        let g = try Scorer.score([TrackerResults(name: "x", runDirs: [t.path + "/r"])], sequences: [seq], kind: .got10k, options: .init())
        // Frame 1: (0,0,10,10) vs (1,1,10,10): 81/119 > 0.5 → success at 0.5 on both frames.
        XCTAssertEqual(g.trackers[0].ope!.op50, 100)
        seq.cover = nil
        let l = try Scorer.score([TrackerResults(name: "x", runDirs: [t.path + "/r"])], sequences: [seq], kind: .lasot, options: .init())
        XCTAssertEqual(l.trackers[0].ope!.op50, 50)
    }
}
