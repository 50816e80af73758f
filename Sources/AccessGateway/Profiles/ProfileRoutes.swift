import AccessCore
import AccessProtocol
import MQTT

/// Which lock a dialect device's topic belongs to, and what it carries: built from the inventory
/// (at start and at each reload) so the router finds a dialect message's lock with one lookup.
struct ProfileRoutes: Sendable {
    struct Route: Sendable, Hashable {
        var lockID: String
        var kind: ProfileInbound
    }

    let topics: ProfileTopics
    private let routes: [String: Route]

    init(site: Site, topics: ProfileTopics) {
        self.topics = topics
        var routes: [String: Route] = [:]
        for lock in site.locks.values where lock.profile != .contract {
            guard let device = lock.device else { continue }
            for (topic, kind) in topics.inbound(lock.profile, device: device) {
                routes[topic] = Route(lockID: lock.id, kind: kind)
            }
        }
        self.routes = routes
    }

    func route(_ topic: String) -> Route? { routes[topic] }

    /// The subscriptions: a dialect event (a code, a card, a command response) is never sent
    /// retained and is dropped when it arrives retained; states are retained by design.
    var filters: [String: MQTTSubscribeOptions] {
        var filters: [String: MQTTSubscribeOptions] = [:]
        for (topic, route) in routes {
            filters[topic] = route.kind.isEvent ? [.neverSendRetained, .retainAsPublished] : [.retainAsPublished]
        }
        return filters
    }
}
