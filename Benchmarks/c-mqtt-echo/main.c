// The MQTT floor in C (issue 20): libmosquitto with MQTT v5 and TCP_NODELAY, one thread,
// answering each QoS 1 request on bench/c-echo/request with its own payload on
// bench/c-echo/reply at QoS 1. No parsing, no allocation of its own: what any responder on this
// broker costs at the least. gateway-bench starts it and measures the Swift client against it.
//
// usage: c-mqtt-echo HOST PORT
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *request_topic = "bench/c-echo/request";
static const char *reply_topic = "bench/c-echo/reply";

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
    (void)obj;
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "c-mqtt-echo: connect refused: %s\n", mosquitto_reason_string(rc));
        exit(1);
    }
    if (mosquitto_subscribe_v5(mosq, NULL, request_topic, 1, 0, NULL) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "c-mqtt-echo: subscribe failed\n");
        exit(1);
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                         const mosquitto_property *props) {
    (void)mosq;
    (void)obj;
    (void)mid;
    (void)props;
    if (count < 1 || granted[0] > 2) {
        fprintf(stderr, "c-mqtt-echo: subscription refused\n");
        exit(1);
    }
    // gateway-bench waits for this line before it measures.
    printf("ready\n");
    fflush(stdout);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *message,
                       const mosquitto_property *props) {
    (void)obj;
    (void)props;
    int rc = mosquitto_publish_v5(mosq, NULL, reply_topic, message->payloadlen, message->payload, 1, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) fprintf(stderr, "c-mqtt-echo: publish: %s\n", mosquitto_strerror(rc));
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: c-mqtt-echo HOST PORT\n");
        return 64;
    }
    char *end = NULL;
    long port = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "c-mqtt-echo: PORT must be 1-65535, not \"%s\"\n", argv[2]);
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new("bench-c-echo", true, NULL);
    if (mosq == NULL) {
        fprintf(stderr, "c-mqtt-echo: out of memory\n");
        return 1;
    }
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
    mosquitto_message_v5_callback_set(mosq, on_message);
    int rc = mosquitto_connect_bind_v5(mosq, argv[1], (int)port, 60, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "c-mqtt-echo: cannot connect to %s:%ld: %s\n", argv[1], port, mosquitto_strerror(rc));
        return 1;
    }
    // Runs until the bench kills it (SIGTERM ends the process).
    rc = mosquitto_loop_forever(mosq, -1, 1);
    fprintf(stderr, "c-mqtt-echo: loop ended: %s\n", mosquitto_strerror(rc));
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    return rc == MOSQ_ERR_SUCCESS ? 0 : 1;
}
