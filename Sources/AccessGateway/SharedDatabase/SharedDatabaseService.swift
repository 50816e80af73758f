import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import Logging
import ServiceLifecycle

/// The shared database (`database.kind: postgres`, docs/scale-out.md): runs its connection
/// pool, migrates it at start (retrying while it is away: until then decisions are denied),
/// probes it every 2 s for `/healthz`, and mirrors the booking messages this gateway applied
/// into it (retrying each until the database takes it; on overflow, replaying the whole local
/// store). First in the group, so it stops after the requests have drained.
public final class SharedDatabaseService: Service, Sendable {
    let context: GatewayContext
    let store: SharedStore
    let mirror: SharedBookingMirror

    init(context: GatewayContext, store: SharedStore, mirror: SharedBookingMirror) {
        self.context = context
        self.store = store
        self.mirror = mirror
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.store.run() }
            group.addTask { await self.watch() }
            group.addTask { await self.mirrorBookings() }
            await withGracefulShutdownHandler {
                // The pool ends with the group: wait for the shutdown, then cancel everything.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            } onGracefulShutdown: {
                self.mirror.lane.close()
            }
            group.cancelAll()
        }
    }

    /// Migrates, then probes; the problem it finds is what `/healthz` and the decisions see.
    private func watch() async {
        var migrated = false
        while !Task.isCancelled {
            do {
                if !migrated {
                    try await store.migrate()
                    migrated = true
                    context.logger.info("shared database migrated")
                }
                let appliedSeq = try await store.appliedSeq()
                context.logger.trace("shared database answers", metadata: ["appliedSeq": "\(appliedSeq)"])
                if mirror.needsReplay.load(ordering: .acquiring) {
                    setProblem("booking mirror overflowed; replaying the local store into the database")
                } else {
                    setProblem(nil)
                }
            } catch {
                setProblem(migrated ? "unreachable: \(error)" : "not migrated yet: \(error)")
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }

    private func setProblem(_ problem: String?) {
        let previous = context.sharedDatabaseProblem.withLock { state in
            defer { state = problem }
            return state
        }
        if previous != problem {
            if let problem {
                context.logger.error(
                    "shared database: decisions denied until it answers", metadata: ["problem": "\(problem)"])
            } else {
                context.logger.notice("shared database answering: decisions resume")
            }
        }
    }

    /// Each message in order, retried until the database takes it (never dropped); after an
    /// overflow, the whole local store once the lane is empty.
    private func mirrorBookings() async {
        while let item = await mirror.lane.next() {
            await retrying("mirror booking") {
                _ = try await self.store.apply(item.message, seq: item.seq, nowMs: self.context.nowMs())
            }
            if mirror.needsReplay.load(ordering: .acquiring), mirror.lane.count == 0 { await replayLocalStore() }
        }
    }

    private func replayLocalStore() async {
        var cursor: String?
        var count = 0
        repeat {
            guard let page = try? context.store.bookingMessages(after: cursor, limit: 1000) else { return }
            for message in page.messages {
                await retrying("replay booking") {
                    _ = try await self.store.apply(message, nowMs: self.context.nowMs())
                }
                count += 1
            }
            cursor = page.next
        } while cursor != nil && !Task.isCancelled
        mirror.needsReplay.store(false, ordering: .releasing)
        context.logger.notice("local bookings replayed into the shared database", metadata: ["messages": "\(count)"])
    }

    private func retrying(_ what: String, _ operation: @escaping @Sendable () async throws -> Void) async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await operation()
                return
            } catch {
                context.logger.warning("\(what) failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
