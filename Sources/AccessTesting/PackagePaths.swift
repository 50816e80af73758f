#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where the package's own files and built products are, for tests that run the real
/// executables or the interop tools that `scripts/install-deps.sh` installs.
public enum PackagePaths {
    /// The package root (this file is `Sources/AccessTesting/PackagePaths.swift`).
    public static let root: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    /// A built executable of this package, next to the running test bundle
    /// (`.build/<config>/`), so the tests run exactly what `swift build` made.
    public static func executable(_ name: String) -> String? {
        var candidates: [String] = []
        if let test = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = test.split(separator: "/", omittingEmptySubsequences: false)
            directory.removeLast()
            candidates.append(directory.joined(separator: "/") + "/" + name)
        }
        candidates.append(root + "/.build/debug/" + name)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The Python with PyJWT and cryptography (`scripts/install-deps.sh` makes it).
    public static var interopPython: String? {
        let path = root + "/.venv-interop/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
