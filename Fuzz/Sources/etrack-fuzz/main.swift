// libFuzzer entry point for every reader of user-given bytes (Fuzz/README.md). The target is
// chosen by ETRACK_FUZZ_TARGET; each input must either parse or throw, never crash, hang or
// exhaust memory. Built by scripts/hardening/fuzz.sh with -sanitize=fuzzer,address.
import ETData
import ETEvaluation
import ETImage
import ETNN
import ETONNX
import ETTracking
import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The readers, by name. Each takes the raw input bytes.
let targets: [String: ([UInt8]) -> Void] = [
    // ONNX models: parse, then plan the graph when its inputs are small enough to allocate.
    "onnx": { bytes in
        guard let model = try? ONNXModel(data: bytes, name: "fuzz.onnx") else { return }
        var shapes: [String: [Int]] = [:]
        for input in model.inputs {
            guard let dims = input.shape?.map({ d -> Int in if case .value(let v) = d { return v } else { return 1 } }),
                  dims.allSatisfy({ $0 >= 0 && $0 <= 64 }), dims.reduce(1, *) <= 4096 else { return }
            shapes[input.name] = dims
        }
        _ = try? ExecutionPlan(model: model, inputShapes: shapes)
    },
    "safetensors": { bytes in _ = try? SafeTensors(data: Data(bytes), source: "fuzz.safetensors") },
    // .npy and TensorProto .pb, picked by the first byte so one corpus covers both.
    "tensor": { bytes in
        let name = (bytes.first ?? 0) & 1 == 1 ? "fuzz.npy" : "fuzz.pb"  // .npy starts with 0x93
        _ = try? TensorFile.read(bytes: bytes, name: name)
    },
    // JPEG (libjpeg-turbo) and PNG (libpng) through our wrappers.
    "image": { bytes in _ = try? ImageIO.decode(data: Data(bytes), name: "fuzz.img") },
    // Annotation, result, time and flag files, and the run manifest.
    "text": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? AnnotationReader.parseBoxes(text, path: "fuzz.txt")
        _ = try? AnnotationReader.parseIntegers(text, path: "fuzz.txt")
        _ = try? ResultFiles.parseBoxes(text, path: "fuzz.txt")
        _ = try? ResultFiles.parseTimes(text, path: "fuzz.txt")
        _ = try? TrackRunManifest.decode(Data(bytes), path: "fuzz.json")
    },
    // Command-line values: boxes (--init), shards, result names, OpenCV versions.
    "arguments": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = BoundingBox(parsing: text)
        _ = try? Shard(parsing: text)
        _ = try? TrackerResults(parsing: text)
        _ = try? OpenCVVersion(text)
    },
]

let name = ProcessInfo.processInfo.environment["ETRACK_FUZZ_TARGET"] ?? ""
guard let target = targets[name] else {
    FileHandle.standardError.write(Data("set ETRACK_FUZZ_TARGET to one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(2)
}
nonisolated(unsafe) let run = target
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
})
