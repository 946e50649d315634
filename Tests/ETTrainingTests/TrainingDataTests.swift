import ETData
import ETImage
import ETNN
import ETTestSupport
import ETTraining
import Foundation
import XCTest

/// Training-data readers, `etrack data check` and the pair sampler, on `../shared/data/train`.
final class TrainingDataTests: XCTestCase {
    let train = sharedRoot + "/data/train"

    func message(_ f: () throws -> Void) -> String {
        do { try f(); return "no error" } catch { return "\(error)" }
    }

    func testDataSpecsParseAndNameWhatIsWrong() throws {
        XCTAssertEqual(try TrainingDataSpec(parsing: "got10k:/d/GOT-10k/train"), TrainingDataSpec(kind: .got10k, path: "/d/GOT-10k/train"))
        XCTAssertEqual(try TrainingDataSpec(parsing: "/d/seqs"), TrainingDataSpec(kind: .folder, path: "/d/seqs"))
        XCTAssertTrue(message { _ = try TrainingDataSpec(parsing: "vot:/d") }.contains("unknown data kind 'vot'"))
        XCTAssertEqual(try TrainingDataSpec(parsing: "coco:/d/coco"), TrainingDataSpec(kind: .coco, path: "/d/coco"))
        XCTAssertTrue(message { _ = try TrainingDataSpec(parsing: "lasot:") }.contains("no path"))
    }

    func testSourcesLoadWithVisibilityAndStillImages() throws {
        let videos = try TrainingSource.load(TrainingDataSpec(kind: .folder, path: train + "/sequences"))
        XCTAssertEqual(videos.videos.count, 9)
        XCTAssertEqual(videos.frameCount, 887)
        // car14 241-320: frames 34-58 absent (README of ../shared/data/train).
        let car = try XCTUnwrap(videos.videos.first { $0.name == "UAV123_10fps_car14_241-320" })
        XCTAssertFalse(car.visibleFrames.contains(33))
        XCTAssertFalse(car.visibleFrames.contains(57))
        XCTAssertTrue(car.visibleFrames.contains(32) && car.visibleFrames.contains(58))
        XCTAssertEqual(car.visibleFrames.count, 80 - 25)
        // A folder that is itself a sequence (img/ inside) is that one video.
        let one = try TrainingSource.load(TrainingDataSpec(kind: .folder, path: train + "/sequences/UAV123_10fps_car14_241-320"))
        XCTAssertEqual(one.videos.map(\.name), ["UAV123_10fps_car14_241-320"])
        XCTAssertEqual(one.videos[0].visibleFrames, car.visibleFrames)
        let stills = try TrainingSource.load(TrainingDataSpec(kind: .images, path: train + "/images"))
        XCTAssertEqual(stills.videos.count, 686, "one pseudo-video per box")
        XCTAssertTrue(stills.videos.allSatisfy(\.isStill))
    }

    func testBadDatasetsGetPathLineErrors() throws {
        let root = try makeTemporaryDirectory()
        // Empty dataset.
        XCTAssertTrue(message { _ = try TrainingSource.load(TrainingDataSpec(kind: .folder, path: root)) }.contains("no sequence folders"))
        // A sequence with a short annotation.
        let seq = root + "/a"
        try FileManager.default.createDirectory(atPath: seq + "/img", withIntermediateDirectories: true)
        let src = sharedRoot + "/data/sequences/OTB_Crossing"
        for i in 1...4 { try FileManager.default.copyItem(atPath: src + String(format: "/img/%08d.jpg", i), toPath: seq + String(format: "/img/%08d.jpg", i)) }
        try "205,151,17,50\n205,151,17,50\n".write(toFile: seq + "/groundtruth.txt", atomically: true, encoding: .utf8)
        XCTAssertTrue(message { _ = try TrainingSource.load(TrainingDataSpec(kind: .folder, path: root)) }.contains("2 box line(s) but 4 frame(s)"))
        // Boxes outside the frame and a contradicting absent flag: every one listed with its line.
        try "205,151,17,50\n-100,-100,20,20\n340,220,40,40\n205,151,17,50\n".write(toFile: seq + "/groundtruth.txt", atomically: true, encoding: .utf8)
        let check = DatasetCheck.run(TrainingDataSpec(kind: .folder, path: root)) { path in
            let image = try ImageIO.read(path: path); return (image.width, image.height)
        }
        let text = check.problems.map(\.description)
        guard text.count == 2 else { return XCTFail("\(text)") }
        XCTAssertTrue(text[0].hasSuffix("groundtruth.txt:2: box -100,-100,20,20 is wholly outside the 360x240 frame"), text[0])
        XCTAssertTrue(text[1].contains("groundtruth.txt:3: box 340,220,40,40 is 75% outside"), text[1])
        // A missing frame (numbering gap).
        try FileManager.default.removeItem(atPath: seq + "/img/00000002.jpg")
        XCTAssertTrue(message { _ = try TrainingSource.load(TrainingDataSpec(kind: .folder, path: root)) }.contains("frame 00000002.jpg is missing"))
        // boxes.csv without the columns.
        let set = root + "/set"
        try FileManager.default.createDirectory(atPath: set, withIntermediateDirectories: true)
        try "file,left,top\n".write(toFile: set + "/boxes.csv", atomically: true, encoding: .utf8)
        XCTAssertTrue(message { _ = try TrainingSource.load(TrainingDataSpec(kind: .images, path: set)) }.contains("boxes.csv:1: the header must name"))
    }

    func sampler(_ aug: Augmentation = Augmentation(), ratios: [Double]? = nil) throws -> PairSampler {
        let sources = [try TrainingSource.load(TrainingDataSpec(kind: .folder, path: train + "/sequences")),
                       try TrainingSource.load(TrainingDataSpec(kind: .images, path: train + "/images"))]
        return try PairSampler(sources: sources, ratios: ratios, seed: 7, configuration: try ModelRegistry.resolve(smallModel), augmentation: aug)
    }

    func testPairsAreVisibleCausalWithinTheGapAndReproducible() throws {
        let s = try sampler()
        var fromStills = 0
        for i in 0..<400 {
            let c = s.choose(i)
            XCTAssertEqual(c, s.choose(i), "sample \(i) is a function of (seed, index)")
            let v = s.sources[c.source].videos[c.video]
            XCTAssertTrue(v.visibleFrames.contains(c.template) && v.visibleFrames.contains(c.search))
            if v.isStill { XCTAssertEqual(c.template, c.search); fromStills += 1 } else {
                XCTAssertGreaterThan(c.search, c.template)
                XCTAssertLessThanOrEqual(c.search - c.template, 200)
            }
        }
        XCTAssertEqual(Double(fromStills) / 400, 0.5, accuracy: 0.08, "ratios 1:1")
        let onlyVideos = try sampler(ratios: [1, 0])
        XCTAssertTrue((0..<100).allSatisfy { onlyVideos.choose($0).source == 0 })
        XCTAssertTrue(message { _ = try self.sampler(ratios: [1]) }.contains("1 ratio(s) for 2 source(s)"))
    }

    func testCropsAreTheTrackersAndTargetsAreInCropFractions() throws {
        let s = try sampler(.none)
        let config = try ModelRegistry.resolve(smallModel)
        let tn = 3 * config.templateSize * config.templateSize, sn = 3 * config.searchSize * config.searchSize
        var t = [Float](repeating: 0, count: tn), x = [Float](repeating: 0, count: sn)
        let index = 3
        let target = try t.withUnsafeMutableBufferPointer { tp in
            try x.withUnsafeMutableBufferPointer { try s.sample(index, template: tp.baseAddress!, search: $0.baseAddress!) }
        }
        // Without jitter the search crop is centred on the box: the target sits in the middle
        // and covers 1/4 of the crop side (factor 4) up to the side's rounding.
        XCTAssertEqual(target.centerX, 0.5, accuracy: 1.0 / 64)
        XCTAssertEqual(target.centerY, 0.5, accuracy: 1.0 / 64)
        XCTAssertEqual((target.width * target.height).squareRoot(), 0.25, accuracy: 0.01)
        // The template crop is ETImage's crop of the corrected tracker, normalised as it does.
        let c = s.choose(index), v = s.sources[c.source].videos[c.video], box = v.boxes[c.template]!
        let frame = try ImageIO.read(path: v.framePaths[c.template])
        let side = Int(((box.width * box.height).squareRoot() * 2).rounded(.up))
        let ox = Int((box.centerX - 0.5 * Double(side)).rounded(.toNearestOrEven)), oy = Int((box.centerY - 0.5 * Double(side)).rounded(.toNearestOrEven))
        let crop = ImageOps.cropResize(frame, x: ox, y: oy, width: side, height: side, padding: [0, 0, 0], outWidth: config.templateSize, outHeight: config.templateSize)
        var ref = [Float](repeating: 0, count: tn)
        ref.withUnsafeMutableBufferPointer {
            ImageOps.toPlanar(crop, into: $0.baseAddress!, channelOrder: .rgb, subtracting: [0.485, 0.456, 0.406].map { $0 * 255 },
                              multiplyingBy: [0.229, 0.224, 0.225].map { 1 / ($0 * 255) })
        }
        let worst = zip(t, ref).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5)
        // Batches do not depend on how they are split: sample i is the same alone or in a batch.
        let b = try s.batch(first: 2, count: 3)
        XCTAssertEqual(Array(b.template[tn..<2 * tn]), t)
        XCTAssertEqual(b.targets[1], target)
    }

    func testAugmentedSamplesStayValid() throws {
        let s = try sampler()
        let b = try s.batch(first: 0, count: 16)
        XCTAssertTrue(b.template.allSatisfy(\.isFinite) && b.search.allSatisfy(\.isFinite))
        for t in b.targets {
            // Jitter moves the centre by at most 3/2·√(w'h') of a crop 4√(w'h') wide: it stays in the crop.
            XCTAssertTrue(t.centerX > 0 && t.centerX < 1 && t.centerY > 0 && t.centerY < 1, "\(t)")
            XCTAssertTrue(t.width > 0 && t.height > 0)
        }
        XCTAssertNotEqual(b.targets[0], try sampler(.none).batch(first: 0, count: 1).targets[0])
    }

    func testUndecodableFrameIsNamed() throws {
        let root = try makeTemporaryDirectory(), seq = root + "/a"
        try FileManager.default.createDirectory(atPath: seq + "/img", withIntermediateDirectories: true)
        for i in 1...3 { try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: seq + String(format: "/img/%04d.jpg", i))) }
        try "10,10,20,20\n10,10,20,20\n10,10,20,20\n".write(toFile: seq + "/groundtruth.txt", atomically: true, encoding: .utf8)
        let s = try PairSampler(sources: [try TrainingSource.load(TrainingDataSpec(kind: .folder, path: root))], seed: 1,
                                configuration: try ModelRegistry.resolve(smallModel))
        XCTAssertTrue(message { _ = try s.batch(first: 0, count: 2) }.contains("/img/000"))
    }
}
