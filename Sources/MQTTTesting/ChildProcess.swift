import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with posix_spawn and a clean signal state.
///
/// Foundation's `Process` starts children from whatever thread calls it, and threads of the
/// Swift runtime block most signals; a child inherits that mask, so SIGTERM would never reach
/// it. Tests that stop brokers and daemons by signal need the default mask and dispositions.
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`; stdout and stderr go to `outputFile` (or nowhere).
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, outputFile: URL? = nil
    ) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let output = outputFile?.path ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: an inherited client socket would stay open in the
        // child after the test closed it (the broker would never see it go), and an inherited
        // listening socket would pass for the child's own.
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw ExternalTool.Failure(
                command: executable, status: -1, output: "posix_spawn_file_actions_addclosefrom_np unavailable")
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentPairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentPairs.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            throw ExternalTool.Failure(
                command: executable, status: code, output: "posix_spawn: \(String(cString: strerror(code)))")
        }
        processIdentifier = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which its header
    /// hides from Swift's importer; looked up once by name.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 =
        {
            typealias Function = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            let unavailable: Function = { _, _ in -1 }
            guard let process = dlopen(nil, RTLD_NOW),
                let symbol = dlsym(process, "posix_spawn_file_actions_addclosefrom_np")
            else { return unavailable }
            return unsafeBitCast(symbol, to: Function.self)
        }()

    /// Whether the child is still running (reaps it once it has exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(processIdentifier, &status, WNOHANG)
        if result == processIdentifier || result < 0 {
            exitStatus = status
            return false
        }
        return true
    }

    /// The raw wait status once exited (use `exitCode` for a normal exit).
    public var terminationStatus: Int32? {
        _ = isRunning
        lock.lock()
        defer { lock.unlock() }
        return exitStatus
    }

    /// The exit code when the child exited normally, nil while running or when it was killed.
    public var exitCode: Int32? {
        guard let status = terminationStatus, status & 0x7F == 0 else { return nil }
        return (status >> 8) & 0xFF
    }

    /// The signal that ended the child, if one did.
    public var terminatingSignal: Int32? {
        guard let status = terminationStatus, status & 0x7F != 0, status & 0x7F != 0x7F else { return nil }
        return status & 0x7F
    }

    public func send(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// Waits up to `timeout` for the child to exit; returns whether it did.
    @discardableResult
    public func waitForExit(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// `waitForExit` for async code: polls with `Task.sleep`, so no thread of the cooperative
    /// pool is held while the child takes its time.
    public func exited(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// `terminate` for async code (see `exited(within:)`).
    public func terminated(_ signal: Int32 = SIGTERM, grace: Duration = .seconds(5)) async {
        send(signal)
        if await !exited(within: grace) {
            send(SIGKILL)
            _ = await exited(within: .seconds(30))
        }
    }

    /// Sends `signal`, waits up to `grace`, then SIGKILLs and waits for good.
    public func terminate(_ signal: Int32 = SIGTERM, grace: Duration = .seconds(5)) {
        send(signal)
        if !waitForExit(timeout: grace) {
            send(SIGKILL)
            waitForExit(timeout: .seconds(30))
        }
    }
}
