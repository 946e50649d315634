// swift-tools-version:5.9
// EfficientTrack: real-time single-object tracking on CPUs.
import PackageDescription
import Foundation

// Hot loops live in CKernels (C intrinsics behind `target` attributes plus runtime dispatch), so
// the package is correct and fast without flags. Swift code gets AVX2/FMA code generation on
// x86_64 unless ETRACK_PORTABLE=1 (for CPUs without AVX2); see docs/cpu-performance notes in
// README. Without these flags Swift lowers SIMD FMA to libm calls (~150x slower).
#if arch(x86_64)
let portable = ProcessInfo.processInfo.environment["ETRACK_PORTABLE"] == "1"
let simdSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"])]
#else
let simdSwift: [SwiftSetting] = []
#endif

let package = Package(
    name: "EfficientTrack",
    platforms: [.macOS(.v13), .iOS(.v16)],
    products: [
        .library(name: "EfficientTrack", targets: ["ETCore", "ETImage", "ETNN", "ETONNX", "ETData", "ETTracking", "ETEvaluation", "ETTraining"]),
        .executable(name: "etrack", targets: ["etrack"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(name: "ETCore", dependencies: ["CKernels"], swiftSettings: simdSwift),
        .target(name: "ETImage", dependencies: ["ETCore", "CTurboJPEG", "CPNG"], swiftSettings: simdSwift),
        .target(name: "ETNN", dependencies: ["ETCore"], swiftSettings: simdSwift),
        .target(name: "ETONNX", dependencies: ["ETCore", "ETNN"], swiftSettings: simdSwift),
        // Dataset readers and boxes, below both evaluation and training.
        .target(name: "ETData", dependencies: ["ETCore"], swiftSettings: simdSwift),
        .target(name: "ETTracking", dependencies: ["ETCore", "ETImage", "ETNN", "ETONNX", "ETData"], swiftSettings: simdSwift),
        .target(name: "ETEvaluation", dependencies: ["ETTracking", "ETImage", "ETNN", "ETData"], swiftSettings: simdSwift),
        .target(name: "ETTraining", dependencies: ["ETCore", "ETNN", "ETImage", "ETData", "ETONNX", "ETTracking", "ETEvaluation"], swiftSettings: simdSwift),
        .executableTarget(name: "etrack", dependencies: [
            "ETCore", "ETImage", "ETNN", "ETONNX", "ETData", "ETTracking", "ETEvaluation", "ETTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: simdSwift),
        .testTarget(name: "ETCoreTests", dependencies: ["ETCore"]),
        .testTarget(name: "ETImageTests", dependencies: ["ETImage"]),
        .testTarget(name: "ETNNTests", dependencies: ["ETNN"]),
        .testTarget(name: "ETONNXTests", dependencies: ["ETONNX", "ETNN"]),
        .testTarget(name: "ETTrackingTests", dependencies: ["ETTracking", "ETImage", "ETNN", "ETONNX", "ETData"]),
        .testTarget(name: "ETEvaluationTests", dependencies: ["ETEvaluation", "ETData"]),
        .testTarget(name: "ETTrainingTests", dependencies: ["ETTraining", "ETNN", "ETONNX", "ETData", "ETTracking", "ETImage", "ETTestSupport"]),
        // Shared test helpers (seeded values, numerical gradients, tolerance compare).
        .target(name: "ETTestSupport", dependencies: ["ETNN"], path: "Tests/ETTestSupport"),
        .testTarget(name: "etrackTests", dependencies: ["etrack", "ETONNX", "ETData"]),
    ]
)

// The libFuzzer harness (Fuzz/README.md): only when ETRACK_FUZZ=1, so normal builds and CI's
// `swift build` never need the sanitizer runtime. scripts/hardening/fuzz.sh builds it.
if ProcessInfo.processInfo.environment["ETRACK_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "etrack-fuzz", dependencies: ["ETImage", "ETNN", "ETONNX", "ETData", "ETTracking", "ETEvaluation"],
                                             path: "Fuzz/Sources/etrack-fuzz"))
}
