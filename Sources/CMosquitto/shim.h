#ifndef C_MOSQUITTO_SHIM_H
#define C_MOSQUITTO_SHIM_H

// libmosquitto's public API, including the MQTT v5 property and reason-code constants.
#include <mosquitto.h>
#include <mqtt_protocol.h>

#endif
