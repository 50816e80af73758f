// The physical floor of a durable decision (issue 20): an "ideal gateway" in C on libmosquitto
// (MQTT v5, TCP_NODELAY). It reads each QoS 1 request on bench/ideal/<lock>/request, appends it
// to a journal, syncs the journal once per batch (fdatasync: one per group of requests that
// arrived together, as the gateway's group commit does), and only then publishes a decision and
// a command per request at QoS 1 on bench/ideal/<lock>/decision and .../command. No parsing,
// no crypto, no database: what a gateway that keeps the first law costs here at the least.
//
// usage: c-ideal-gateway HOST PORT JOURNAL
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

enum { capacity = 65536, lock_bytes = 64, journal_wrap = 64 << 20 };

struct request {
    char lock[lock_bytes];
    void *payload;
    int length;
};

// The bounded lane between the network thread and the writer; full means dropped and counted.
static struct request lane[capacity];
static unsigned head, count;
static unsigned long dropped;
static pthread_mutex_t lane_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lane_ready = PTHREAD_COND_INITIALIZER;
static struct mosquitto *client;
static int journal;

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
    (void)obj;
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "c-ideal-gateway: connect refused: %s\n", mosquitto_reason_string(rc));
        exit(1);
    }
    if (mosquitto_subscribe_v5(mosq, NULL, "bench/ideal/+/request", 1, 0, NULL) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "c-ideal-gateway: subscribe failed\n");
        exit(1);
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props) {
    (void)mosq;
    (void)obj;
    (void)mid;
    (void)props;
    if (n < 1 || granted[0] > 2) {
        fprintf(stderr, "c-ideal-gateway: subscription refused\n");
        exit(1);
    }
    printf("ready\n");
    fflush(stdout);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *message,
                       const mosquitto_property *props) {
    (void)mosq;
    (void)obj;
    (void)props;
    // bench/ideal/<lock>/request: the lock is the third level.
    const char *start = message->topic + strlen("bench/ideal/");
    const char *slash = strchr(start, '/');
    size_t lock_length = slash ? (size_t)(slash - start) : 0;
    if (strncmp(message->topic, "bench/ideal/", 12) != 0 || lock_length == 0 || lock_length >= lock_bytes) return;
    void *payload = malloc((size_t)message->payloadlen + 1);
    if (payload == NULL) return;
    memcpy(payload, message->payload, (size_t)message->payloadlen);
    pthread_mutex_lock(&lane_mutex);
    if (count == capacity) {
        dropped++;
        pthread_mutex_unlock(&lane_mutex);
        free(payload);
        return;
    }
    struct request *slot = &lane[(head + count) % capacity];
    memcpy(slot->lock, start, lock_length);
    slot->lock[lock_length] = '\0';
    slot->payload = payload;
    slot->length = message->payloadlen;
    count++;
    pthread_cond_signal(&lane_ready);
    pthread_mutex_unlock(&lane_mutex);
}

static void fail(const char *what) {
    fprintf(stderr, "c-ideal-gateway: %s: %s\n", what, strerror(errno));
    exit(1);
}

// Takes everything waiting, journals it with one write and one fdatasync, then answers each.
static void *writer(void *unused) {
    (void)unused;
    static struct request batch[capacity];
    static struct iovec pieces[2 * 512];
    static const char newline = '\n';
    off_t offset = 0;
    char topic[lock_bytes + 32];
    for (;;) {
        pthread_mutex_lock(&lane_mutex);
        while (count == 0) pthread_cond_wait(&lane_ready, &lane_mutex);
        unsigned n = count;
        for (unsigned i = 0; i < n; i++) batch[i] = lane[(head + i) % capacity];
        head = (head + n) % capacity;
        count = 0;
        pthread_mutex_unlock(&lane_mutex);

        for (unsigned i = 0; i < n;) {
            int used = 0;
            size_t bytes = 0;
            for (; i < n && used < 2 * 512; i++) {
                pieces[used].iov_base = batch[i].payload;
                pieces[used++].iov_len = (size_t)batch[i].length;
                pieces[used].iov_base = (void *)&newline;
                pieces[used++].iov_len = 1;
                bytes += (size_t)batch[i].length + 1;
            }
            if (offset + (off_t)bytes > journal_wrap) offset = 0;
            if (pwritev(journal, pieces, used, offset) < 0) fail("journal write");
            offset += (off_t)bytes;
        }
        if (fdatasync(journal) != 0) fail("journal fdatasync");
        for (unsigned i = 0; i < n; i++) {
            snprintf(topic, sizeof topic, "bench/ideal/%s/decision", batch[i].lock);
            mosquitto_publish_v5(client, NULL, topic, batch[i].length, batch[i].payload, 1, false, NULL);
            snprintf(topic, sizeof topic, "bench/ideal/%s/command", batch[i].lock);
            mosquitto_publish_v5(client, NULL, topic, batch[i].length, batch[i].payload, 1, false, NULL);
            free(batch[i].payload);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: c-ideal-gateway HOST PORT JOURNAL\n");
        return 64;
    }
    char *end = NULL;
    long port = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "c-ideal-gateway: PORT must be 1-65535, not \"%s\"\n", argv[2]);
        return 64;
    }
    journal = open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (journal < 0) fail(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    client = mosquitto_new("bench-c-ideal-gateway", true, NULL);
    if (client == NULL) {
        fprintf(stderr, "c-ideal-gateway: out of memory\n");
        return 1;
    }
    mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(client, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(client, on_connect);
    mosquitto_subscribe_v5_callback_set(client, on_subscribe);
    mosquitto_message_v5_callback_set(client, on_message);
    int rc = mosquitto_connect_bind_v5(client, argv[1], (int)port, 60, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "c-ideal-gateway: cannot connect to %s:%ld: %s\n", argv[1], port, mosquitto_strerror(rc));
        return 1;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, writer, NULL) != 0) fail("writer thread");
    // The network loop on this thread until the bench ends the process; the writer publishes
    // from its own thread, which libmosquitto allows once it knows it is threaded.
    mosquitto_threaded_set(client, true);
    rc = mosquitto_loop_forever(client, -1, 1);
    fprintf(stderr, "c-ideal-gateway: loop ended: %s (%lu dropped)\n", mosquitto_strerror(rc), dropped);
    return rc == MOSQ_ERR_SUCCESS ? 0 : 1;
}
