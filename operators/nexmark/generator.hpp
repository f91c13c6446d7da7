#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/value.hpp"

/// The Nexmark auction benchmark's event generator: people, auctions and
/// bids in the proportions, id relations and value distributions of the
/// standard generator (Apache Beam's nexmark sources, as used by the
/// nexmark-flink benchmark). Plain C++, no actors: the `nexmark` source
/// operator (operators/nexmark/source.cpp) and tests call it.
namespace weir::nexmark {

// -- the shape of the event stream -------------------------------------------

/// Out of every `total_proportion` consecutive event numbers, the first
/// `person_proportion` are people, the next `auction_proportion` auctions
/// and the rest bids.
constexpr int64_t person_proportion = 1;
constexpr int64_t auction_proportion = 3;
constexpr int64_t bid_proportion = 46;
constexpr int64_t total_proportion
  = person_proportion + auction_proportion + bid_proportion;

/// Ids start here so that queries find matches even on few events.
constexpr int64_t first_person_id = 1000;
constexpr int64_t first_auction_id = 1000;
constexpr int64_t first_category_id = 10;
/// Auction categories are first_category_id + [0, num_categories).
constexpr int64_t num_categories = 5;

/// A bid goes to a hot auction with probability 1 - 1 / hot_auction_ratio,
/// an auction to a hot seller with 1 - 1 / hot_seller_ratio, a bid comes
/// from a hot bidder with 1 - 1 / hot_bidder_ratio.
constexpr int64_t hot_auction_ratio = 2;
constexpr int64_t hot_seller_ratio = 4;
constexpr int64_t hot_bidder_ratio = 4;
/// The hot auction is the first of the latest block of this many auction
/// ids, the hot seller the first and the hot bidder the second of the
/// latest block of this many person ids.
constexpr int64_t hot_block = 100;

/// Bids that are not for the hot auction pick one of the latest this many
/// auctions (plus the newest one).
constexpr int64_t num_in_flight_auctions = 100;
/// Sellers and bidders that are not hot pick one of the latest this many
/// people.
constexpr int64_t num_active_people = 1000;

/// The share of events whose date_time lies before their nominal time by
/// a delay in [1, max_out_of_orderness_ms].
constexpr double delayed_event_probability = 0.1;

/// 2026-01-01T00:00:00Z in milliseconds since the Unix epoch.
constexpr int64_t default_first_event_time_ms = 1767225600000;

/// The bound on out-of-orderness of the standard generator: its unbounded
/// source holds back 10% of the events by up to 3 s (occasionalDelaySec).
/// Below the 4 s watermark delay of the nexmark-flink DDL, so that with it
/// no event is late.
constexpr int64_t default_max_out_of_orderness_ms = 3000;

/// What the events depend on besides their number.
struct generator_config {
  /// Seeds every random choice; another seed gives another stream.
  uint64_t seed = 0;
  /// Nominal date_time of event number 0.
  int64_t first_event_time_ms = default_first_event_time_ms;
  /// Events per second of event time: event n is nominally
  /// n / event_time_rate seconds after event 0 (nexmark-flink's default
  /// rate). Must be positive and finite.
  double event_time_rate = 10'000'000;
  /// The largest delay of an event's date_time behind its nominal time; 0
  /// makes every date_time nominal, and so non-decreasing in n. Must not be
  /// negative.
  int64_t max_out_of_orderness_ms = default_max_out_of_orderness_ms;
};

/// What a Nexmark event announces; the values are its row's event_type.
enum class event_kind : uint8_t {
  person = 0,
  auction = 1,
  bid = 2,
};

/// One Nexmark event: a new person, a new auction or a bid. Only the
/// fields of its kind are meaningful; the others stay zero or empty.
struct event {
  event_kind kind = event_kind::person;
  /// When the event happened, in ms since the Unix epoch.
  int64_t date_time_ms = 0;

  // -- person --
  int64_t id = 0;
  /// "First Last" from small name tables.
  std::string name;
  /// Random letters and spaces, "xxx@yyy.com".
  std::string email_address;
  /// Sixteen digits in four blocks: "dddd dddd dddd dddd".
  std::string credit_card;
  /// One of ten cities of the US north-west.
  std::string city;
  /// One of AZ, CA, ID, OR, WA, WY.
  std::string state;

  // -- auction --
  int64_t auction_id = 0;
  /// Random letters and spaces, fewer than 20.
  std::string item_name;
  /// Random letters and spaces, fewer than 100.
  std::string description;
  /// A price (see `price`).
  int64_t initial_bid = 0;
  /// initial_bid plus another price: always above initial_bid.
  int64_t reserve = 0;
  /// date_time_ms plus a length uniform in [1, max(2 h, 1)] ms, where h is
  /// the nominal time it takes to create num_in_flight_auctions more
  /// auctions (so that about that many are open at any time).
  int64_t expires_ms = 0;
  /// A person id.
  int64_t seller = 0;
  /// In [first_category_id, first_category_id + num_categories).
  int64_t category = 0;

  // -- bid --
  /// An auction id.
  int64_t auction = 0;
  /// A person id.
  int64_t bidder = 0;
  /// In cents, log-uniform: round(10^(6 u) * 100) for u uniform in
  /// [0, 1), so from 1 to a million dollars.
  int64_t price = 0;
};

/// Computes Nexmark events from their numbers. Every event is a pure
/// function of the config and its number n (its random choices come from
/// a hash of the seed and n), so any subtask can generate any subset of
/// numbers, in any order, and gets the same events as any other.
///
/// Kinds and ids follow the numbering: event n is a person when
/// n % total_proportion < person_proportion, an auction when it is below
/// person_proportion + auction_proportion, a bid otherwise. People and
/// auctions are numbered consecutively from first_person_id and
/// first_auction_id in event-number order. Every id an event refers to
/// (seller, bidder, bid auction) is that of a person or auction with a
/// smaller event number. (The standard generator also picks a few ids up
/// to ten ahead of the newest; this one never does.)
///
/// Timestamps: the nominal time of event n is first_event_time_ms +
/// floor(n * (1000 / event_time_rate)) in double arithmetic, which never
/// decreases with n. With probability delayed_event_probability an event's
/// date_time is its nominal time minus a uniform delay in
/// [1, max_out_of_orderness_ms], otherwise it is the nominal time. Hence,
/// for every n,
///
///   date_time(n) >= max { date_time(m) : m < n } - max_out_of_orderness_ms,
///
/// because date_time(m) <= nominal(m) <= nominal(n) <= date_time(n) +
/// max_out_of_orderness_ms. The standard generator gets the same disorder
/// by emitting held-back events up to 3 s late; a pure function of n moves
/// the event's time instead.
class generator {
public:
  /// Throws std::invalid_argument for a rate that is not positive and
  /// finite or a negative out-of-orderness.
  explicit generator(generator_config config);

  const generator_config& config() const {
    return config_;
  }

  /// Event number `n`. The caller keeps n small enough for its times to
  /// fit in int64 milliseconds (the nexmark source checks its parameters
  /// for that).
  event generate(uint64_t n) const;

  /// Event number `n` into `out`, reusing its string buffers (what a source
  /// calls in a loop).
  void generate(uint64_t n, event& out) const;

  /// The date_time event `n` has before any delay.
  int64_t nominal_time_ms(uint64_t n) const;

  /// The kind of event number `n`.
  static event_kind kind_of(uint64_t n);

private:
  generator_config config_;
  double ms_per_event_;
};

/// The field names of to_row()'s rows, in order: event_type, date_time,
/// person_id, person_name, person_email, person_credit_card, person_city,
/// person_state, auction_id, auction_item_name, auction_description,
/// auction_initial_bid, auction_reserve, auction_expires, auction_seller,
/// auction_category, bid_auction, bid_bidder, bid_price.
const std::vector<std::string>& row_fields();

/// An event as one wide row of row_fields(): event_type is the kind as
/// int64 (0 person, 1 auction, 2 bid), date_time and auction_expires are
/// timestamps, the fields of the other kinds are null.
row to_row(const event& e);

/// As above, moving the event's strings into the row.
row to_row(event&& e);

} // namespace weir::nexmark
