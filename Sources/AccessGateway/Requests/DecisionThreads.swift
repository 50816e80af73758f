import DequeModule
import Dispatch
import Foundation
import Synchronization

/// Threads of their own for the request workers (a `TaskExecutor`): a decision may block its
/// thread for its audit commit's WAL sync (`AuditLog.mayCommitInline`), which on Swift's
/// cooperative pool would stall every other service of the gateway for as long as the disk takes.
/// Jobs run in the order they were enqueued, on whichever of the threads is free.
final class DecisionThreads: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched under its mutex, the semaphores are thread-safe, and
    // `count` is a constant.
    private let jobs = Mutex<(queue: Deque<UnownedJob>, stopping: Bool)>(([], false))
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int, name: String = "decisions") {
        self.count = max(1, count)
        for index in 0..<self.count {
            // Named from inside: Linux threads otherwise inherit the name of the thread that
            // started them (a cooperative pool thread), and `top -H` could not tell them apart.
            let thread = Thread { [self] in
                Thread.current.name = "\(name)-\(index)"
                self.serve()
            }
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.queue.append(unowned) }
        ready.signal()
    }

    private func serve() {
        while true {
            ready.wait()
            let next = jobs.withLock { state -> UnownedJob?? in
                if let job = state.queue.popFirst() { return .some(job) }
                return state.stopping ? .none : .some(nil)
            }
            switch next {
            case .none:
                finished.signal()
                return
            case .some(.none): continue
            case .some(.some(let job)): job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    /// Ends the threads once every job enqueued so far has run; call after the last task that
    /// prefers this executor has finished.
    func shutdown() {
        jobs.withLock { $0.stopping = true }
        for _ in 0..<count { ready.signal() }
        for _ in 0..<count { finished.wait() }
    }
}
