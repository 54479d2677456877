// Owners for libevent objects, so an event_base or event is freed exactly once, after
// everything that refers to it. Workers and the daemon's main loop build on these; no code
// calls event_free or event_base_free by hand.
#pragma once

#include <event2/event.h>

#include <memory>
#include <stdexcept>

namespace nolb::util {

struct EventBaseFree {
    void operator()(event_base* base) const { event_base_free(base); }
};
struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
};

using EventBase = std::unique_ptr<event_base, EventBaseFree>;
using Event = std::unique_ptr<event, EventFree>;

// A base for one thread only: no internal locking, since nothing is shared across threads.
inline EventBase make_event_base() {
    std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(),
                                                                       &event_config_free);
    if (!config) throw std::runtime_error("cannot create an event loop configuration");
    event_config_set_flag(config.get(), EVENT_BASE_FLAG_NOLOCK);
    EventBase base(event_base_new_with_config(config.get()));
    if (!base) throw std::runtime_error("cannot create an event loop");
    return base;
}

inline Event make_event(event_base* base, evutil_socket_t fd, short what,
                        event_callback_fn callback, void* argument) {
    Event ev(event_new(base, fd, what, callback, argument));
    if (!ev) throw std::runtime_error("cannot create an event");
    return ev;
}

inline Event make_signal_event(event_base* base, int signal, event_callback_fn callback,
                               void* argument) {
    return make_event(base, signal, EV_SIGNAL | EV_PERSIST, callback, argument);
}

}  // namespace nolb::util
