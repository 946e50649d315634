import ETCore
import ETData
import ETTestSupport
import Foundation
import XCTest

/// The TrackingNet and COCO readers and `etrack data convert`, on small trees laid out as the
/// official downloads unpack (frames from `../shared/data/sequences/OTB_Crossing`).
/// Layouts written for: TrackingNet's download script (TRAIN_<n>/anno, TRAIN_<n>/frames/<seq>/<k>.jpg)
/// and COCO 2017 (annotations/instances_train2017.json, train2017/).
final class TrainingDataReadersTests: XCTestCase {
    let fm = FileManager.default
    let frame = { (i: Int) in sharedRoot + String(format: "/data/sequences/OTB_Crossing/img/%08d.jpg", i) }

    func message(_ f: () throws -> Void) -> String {
        do { try f(); return "no error" } catch { return "\(error)" }
    }

    func write(_ text: String, _ path: String) throws {
        try fm.createDirectory(atPath: path.pathDeletingLastComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// TRAIN_0 with two sequences (4 and 3 frames), TRAIN_3 with one (2 frames; frame 1 has no box).
    func makeTrackingNet() throws -> String {
        let root = try makeTemporaryDirectory("trackingnet")
        let layout: [(String, String, [String])] = [
            ("TRAIN_0", "a_0", ["205,151,17,50", "206,151,17,50", "207,152,17,50", "208,152,17,50"]),
            ("TRAIN_0", "b_1", ["10,20,30,40", "11,20,30,40", "12,20,30,40"]),
            ("TRAIN_3", "c_2", ["100,100,20,20", "0,0,0,0"]),
        ]
        for (chunk, name, boxes) in layout {
            try write(boxes.joined(separator: "\n") + "\n", "\(root)/\(chunk)/anno/\(name).txt")
            try fm.createDirectory(atPath: "\(root)/\(chunk)/frames/\(name)", withIntermediateDirectories: true)
            for k in boxes.indices { try fm.copyItem(atPath: frame(k + 1), toPath: "\(root)/\(chunk)/frames/\(name)/\(k).jpg") }
        }
        return root
    }

    func testTrackingNetChunksLoadInOrderWithVisibility() throws {
        let root = try makeTrackingNet()
        let seqs = try TrackingNetDataset.load(root: root)
        XCTAssertEqual(seqs.map(\.name), ["a_0", "b_1", "c_2"])
        XCTAssertEqual(seqs[0].framePaths.map { $0.split(separator: "/").last! }, ["0.jpg", "1.jpg", "2.jpg", "3.jpg"])
        XCTAssertEqual(seqs[0].groundTruth[2], BoundingBox(x: 207, y: 152, width: 17, height: 50))
        // One chunk given directly is that chunk.
        XCTAssertEqual(try TrackingNetDataset.load(root: root + "/TRAIN_3").map(\.name), ["c_2"])
        let source = try TrainingSource.load(try TrainingDataSpec(parsing: "trackingnet:" + root))
        XCTAssertEqual(source.videos.count, 3)
        XCTAssertEqual(source.videos[2].visibleFrames, [0], "a box without area is not visible")
    }

    func testTrackingNetErrorsNameTheFile() throws {
        let root = try makeTrackingNet()
        XCTAssertTrue(message { _ = try TrackingNetDataset.load(root: try makeTemporaryDirectory()) }.contains("no TrackingNet chunk here"))
        try fm.removeItem(atPath: root + "/TRAIN_0/frames/a_0/1.jpg")
        XCTAssertTrue(message { _ = try TrackingNetDataset.load(root: root) }.contains("TRAIN_0/frames/a_0: frame 1.jpg is missing"))
        try fm.copyItem(atPath: frame(2), toPath: root + "/TRAIN_0/frames/a_0/1.jpg")
        try write("10,20,30,40\n", root + "/TRAIN_0/anno/b_1.txt")
        XCTAssertTrue(message { _ = try TrackingNetDataset.load(root: root) }.contains("anno/b_1.txt: 1 box line(s) but 3 frame(s)"))
        try fm.removeItem(atPath: root + "/TRAIN_0/frames/b_1")
        XCTAssertTrue(message { _ = try TrackingNetDataset.load(root: root) }.contains("frames/b_1: frame folder not found"))
    }

    /// Two images; annotations: a box, a crowd box (left out), a box with no area (kept by the
    /// reader, not visible for training), a second box on image 1.
    func makeCOCO(images: String = "train2017", json: String? = nil) throws -> String {
        let root = try makeTemporaryDirectory("coco")
        try fm.createDirectory(atPath: "\(root)/\(images)", withIntermediateDirectories: true)
        try fm.copyItem(atPath: frame(1), toPath: "\(root)/\(images)/000000000009.jpg")
        try fm.copyItem(atPath: frame(2), toPath: "\(root)/\(images)/000000000025.jpg")
        let text = json ?? """
        {"info": {"year": 2017}, "licenses": [],
         "images": [{"id": 9, "file_name": "000000000009.jpg", "width": 360, "height": 240},
                    {"id": 25, "file_name": "000000000025.jpg", "width": 360, "height": 240}],
         "annotations": [
           {"id": 1, "image_id": 9, "bbox": [205.5, 151, 17, 50], "iscrowd": 0, "category_id": 1, "segmentation": [[1, 2, 3, 4]], "area": 850},
           {"id": 2, "image_id": 9, "bbox": [0, 0, 100, 100], "iscrowd": 1, "category_id": 1, "segmentation": {"counts": [1], "size": [240, 360]}},
           {"id": 3, "image_id": 25, "bbox": [50, 60, 0, 10], "iscrowd": 0, "category_id": 3},
           {"id": 4, "image_id": 9, "bbox": [10, 20, 30, 40], "iscrowd": 0, "category_id": 3}],
         "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]}
        """
        try write(text, "\(root)/annotations/instances_train2017.json")
        return root
    }

    func testCOCOInstancesAreStillsWithoutCrowds() throws {
        for images in ["train2017", "images/train2017"] {
            let root = try makeCOCO(images: images)
            let instances = try COCODataset.load(root: root)
            XCTAssertEqual(instances.map(\.annotationID), [1, 3, 4], images)
            XCTAssertEqual(instances[0].box, BoundingBox(x: 205.5, y: 151, width: 17, height: 50))
            XCTAssertEqual(instances.map(\.category), ["person", "car", "car"])
            XCTAssertTrue(instances[0].imagePath.hasSuffix("\(images)/000000000009.jpg"))
            let source = try TrainingSource.load(try TrainingDataSpec(parsing: "coco:" + root))
            XCTAssertEqual(source.videos.count, 2, "the box without area gives no pair")
            XCTAssertTrue(source.videos.allSatisfy(\.isStill))
        }
    }

    func testCOCOErrorsNameTheFileAndField() throws {
        XCTAssertTrue(message { _ = try COCODataset.load(root: try makeTemporaryDirectory()) }.contains("no instances_train*.json"))
        let truncated = try makeCOCO(json: #"{"images": [{"id": 9, "file_name": "a.jpg"}], "annotations": [{"id": 1, "#)
        XCTAssertTrue(message { _ = try COCODataset.load(root: truncated) }.contains("instances_train2017.json: not a COCO instances file"))
        let noBox = try makeCOCO(json: #"{"images": [{"id": 9, "file_name": "000000000009.jpg"}], "annotations": [{"id": 1, "image_id": 9, "category_id": 1}]}"#)
        XCTAssertTrue(message { _ = try COCODataset.load(root: noBox) }.contains("missing key 'bbox' at .annotations[0]"), message { _ = try COCODataset.load(root: noBox) })
        let badImage = try makeCOCO(json: #"{"images": [], "annotations": [{"id": 7, "image_id": 9, "bbox": [1,2,3,4], "category_id": 1}]}"#)
        XCTAssertTrue(message { _ = try COCODataset.load(root: badImage) }.contains("annotations[0] (id 7) names image_id 9, which is not in images"))
        let shortBox = try makeCOCO(json: #"{"images": [{"id": 9, "file_name": "000000000009.jpg"}], "annotations": [{"id": 7, "image_id": 9, "bbox": [1,2,3], "category_id": 1}]}"#)
        XCTAssertTrue(message { _ = try COCODataset.load(root: shortBox) }.contains("bbox [1.0, 2.0, 3.0] is not four finite numbers"))
        let missing = try makeCOCO()
        try fm.removeItem(atPath: missing + "/train2017/000000000025.jpg")
        XCTAssertTrue(message { _ = try COCODataset.load(root: missing) }.contains("000000000025.jpg: image not found (annotations[2], id 3"))
    }

    func testConversionsReadBackAsTheSameData() throws {
        // TrackingNet → folder: the same frames (as links) and boxes.
        let tn = try makeTrackingNet(), out = try makeTemporaryDirectory() + "/tn"
        let s = try DatasetConversion.convert(try TrainingDataSpec(parsing: "trackingnet:" + tn), to: out)
        XCTAssertEqual(s, DatasetConversion.Summary(videos: 3, frames: 9))
        let back = try FolderDataset.loadAll(root: out), orig = try TrackingNetDataset.load(root: tn)
        XCTAssertEqual(back.map(\.name), orig.map(\.name))
        XCTAssertEqual(back.map(\.groundTruth), orig.map(\.groundTruth))
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: back[1].framePaths[2]), orig[1].framePaths[2])
        // COCO → images (default): boxes.csv and an images link; the training source is the same.
        let coco = try makeCOCO(), outImages = try makeTemporaryDirectory() + "/coco"
        XCTAssertEqual(try DatasetConversion.convert(try TrainingDataSpec(parsing: "coco:" + coco), to: outImages),
                       DatasetConversion.Summary(videos: 3, frames: 2))
        let a = try TrainingSource.load(try TrainingDataSpec(parsing: "coco:" + coco)).videos
        let b = try TrainingSource.load(try TrainingDataSpec(parsing: "images:" + outImages)).videos
        XCTAssertEqual(a.map(\.boxes), b.map(\.boxes))
        XCTAssertEqual(a.map { $0.framePaths[0].split(separator: "/").last! }, b.map { $0.framePaths[0].split(separator: "/").last! })
        // COCO → folder: one one-frame sequence per box.
        let outFolder = try makeTemporaryDirectory() + "/coco-folder"
        _ = try DatasetConversion.convert(try TrainingDataSpec(parsing: "coco:" + coco), to: outFolder, layout: .folder)
        let stills = try FolderDataset.loadAll(root: outFolder)
        XCTAssertEqual(stills.map(\.name), ["000000000009_1", "000000000025_3", "000000000009_4"].sorted(by: DatasetFiles.naturalLess))
        // An existing output is refused; a failing conversion leaves neither the output nor a temporary.
        XCTAssertTrue(message { _ = try DatasetConversion.convert(try TrainingDataSpec(parsing: "coco:" + coco), to: outImages) }.contains("exists; choose a new folder"))
        try fm.removeItem(atPath: tn + "/TRAIN_3/frames/c_2/1.jpg")
        let parent = try makeTemporaryDirectory()
        XCTAssertTrue(message { _ = try DatasetConversion.convert(try TrainingDataSpec(parsing: "trackingnet:" + tn), to: parent + "/x") }.contains("anno/c_2.txt: 2 box line(s) but 1 frame(s)"))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: parent), [])
        XCTAssertTrue(message { _ = try DatasetConversion.convert(try TrainingDataSpec(parsing: "lasot:" + tn), to: parent + "/y", layout: .images) }.contains("the images layout is for still-image sets"))
    }
}
