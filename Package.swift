// swift-tools-version:6.1
import PackageDescription

// One target per concern; C libraries behind underscore-prefixed system-library targets.
// Language mode 5: the numeric kernels pass raw pointers into DispatchQueue.concurrentPerform,
// which Swift 6's strict sendability checking rejects without adding safety here.
let package = Package(
    name: "clvs",
    products: [
        .executable(name: "clvs-trace", targets: ["clvs-trace"]),
        .library(name: "CLVS", targets: ["JSONCore", "Tensors", "SafeTensors", "Tokenizers", "Imaging", "Models", "Interventions", "Tracing", "Analysis", "Plotting", "Benchmarks", "ShapesWorld"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries (Debian packages; .ci/run installs them).
        .systemLibrary(name: "_COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "_CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "_CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "_CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),

        .target(name: "JSONCore"),
        .target(name: "Tensors", dependencies: ["_COpenBLAS"]),
        .target(name: "SafeTensors", dependencies: ["_CHalf", "JSONCore"]),
        .target(name: "_CHalf"),
        .target(name: "Tokenizers", dependencies: ["JSONCore"]),
        .target(name: "Imaging", dependencies: ["_CPNG", "_CJPEG"]),
        .target(name: "_CGemm"),
        .target(name: "FastGEMM", dependencies: ["_CGemm"]),
        .target(name: "Models", dependencies: ["FastGEMM", "Tensors", "SafeTensors", "Tokenizers", "JSONCore"]),
        .target(name: "Interventions", dependencies: ["Models", "Tensors"]),
        .target(name: "Plotting", dependencies: ["_CCairo", "Imaging"]),
        .target(name: "Tracing", dependencies: ["Models", "Interventions", "SafeTensors", "Imaging", "Tokenizers", "Plotting", "Analysis"]),
        .target(name: "Analysis", dependencies: ["Imaging"]),
        .target(name: "ShapesWorld", dependencies: ["Imaging", "JSONCore"]),
        .target(name: "Benchmarks", dependencies: ["Tracing", "Interventions", "Models", "Imaging", "Tokenizers", "Plotting"], exclude: ["README.md"]),
        .executableTarget(
            name: "clvs-trace",
            dependencies: ["Models", "Interventions", "Tracing", "Imaging", "Analysis", "Benchmarks", "ShapesWorld",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/default-model"), .copy("Resources/default-image.png"), .copy("Resources/default-annotations.json")]),

        .testTarget(name: "JSONCoreTests", dependencies: ["JSONCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "JSONCore"], exclude: ["Fixtures"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tracing", "Imaging", "Tokenizers", "SafeTensors"],
                    exclude: ["Fixtures"]),
        .executableTarget(name: "plot-gallery", dependencies: ["Plotting", "Imaging"], path: "Examples/PlotGallery",
                          exclude: ["gallery", "README.md"]),
        // Examples/README.md lists what each one does and its command.
        .executableTarget(name: "trace-peak-layer",
                          dependencies: ["Tracing", "Interventions", "Analysis",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Examples/TracePeakLayer"),
        .executableTarget(name: "gamma-sweep",
                          dependencies: ["Tracing", "Interventions", "Analysis", "Plotting",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Examples/GammaSweep"),
        .executableTarget(name: "plot-trace",
                          dependencies: ["Tracing", "Plotting", "SafeTensors",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Examples/PlotTrace"),

        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "InterventionsTests", dependencies: ["Interventions", "Models", "Tensors", "SafeTensors"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Interventions", "Tracing", "Imaging", "clvs-trace"], exclude: ["Fixtures"]),
        .testTarget(name: "ShapesWorldTests", dependencies: ["ShapesWorld", "Analysis", "Benchmarks", "Imaging"]),
        .testTarget(name: "ShapesModelTests", dependencies: ["ShapesWorld", "Models", "Tracing"]),
        .testTarget(name: "FastGEMMTests", dependencies: ["FastGEMM", "_CGemm"]),
        .testTarget(name: "StudyTests", dependencies: ["Tracing", "Analysis", "Interventions", "SafeTensors", "clvs-trace"]),
        .testTarget(name: "CLITests", dependencies: ["SafeTensors", "Imaging", "Tracing", "clvs-trace"]),
        .testTarget(name: "ExamplesTests", dependencies: ["SafeTensors", "Imaging", "Tracing",
                                                          "trace-peak-layer", "gamma-sweep", "plot-trace"]),
    ],
    swiftLanguageModes: [.v5]
)
