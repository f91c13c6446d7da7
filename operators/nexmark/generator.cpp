#include "operators/nexmark/generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <type_traits>

namespace weir::nexmark {

namespace {

/// The random choices of one event: a splitmix64 stream whose start is a
/// hash of the seed and the event number.
class event_random {
public:
  event_random(uint64_t seed, uint64_t n)
    : state_(mix(mix(seed) + n * golden)) {
  }

  uint64_t next() {
    state_ += golden;
    return mix(state_);
  }

  /// Uniform in [0, bound) for bound > 0 (Lemire's multiply-shift; its
  /// bias of at most bound / 2^64 does not matter here).
  int64_t below(int64_t bound) {
    auto wide
      = static_cast<unsigned __int128>(next()) * static_cast<uint64_t>(bound);
    return static_cast<int64_t>(wide >> 64);
  }

  /// Uniform in [0, 1).
  double unit() {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }

  /// True with probability 1 - 1 / ratio: a hot pick.
  bool hot(int64_t ratio) {
    return below(ratio) > 0;
  }

private:
  static constexpr uint64_t golden = 0x9e3779b97f4a7c15;

  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  uint64_t state_;
};

// -- ids from event numbers ---------------------------------------------------

/// The newest person id (base 0) at event `n`: that of `n` itself when it
/// is a person.
int64_t last_person(uint64_t n) {
  auto epoch = static_cast<int64_t>(n / total_proportion);
  auto offset = static_cast<int64_t>(n % total_proportion);
  return epoch * person_proportion + std::min(offset, person_proportion - 1);
}

/// The newest auction id (base 0) at event `n`: that of `n` itself when it
/// is an auction; -1 before the first auction.
int64_t last_auction(uint64_t n) {
  auto epoch = static_cast<int64_t>(n / total_proportion);
  auto offset = static_cast<int64_t>(n % total_proportion);
  if (offset < person_proportion)
    return epoch * auction_proportion - 1;
  return epoch * auction_proportion
         + std::min(offset - person_proportion, auction_proportion - 1);
}

/// One of the latest num_active_people people up to `newest` (base 0).
int64_t active_person(event_random& rnd, int64_t newest) {
  auto count = std::min(newest + 1, num_active_people);
  return newest + 1 - count + rnd.below(count);
}

// -- values -------------------------------------------------------------------

/// A price in cents, log-uniform from 1 to 10^6 dollars.
int64_t next_price(event_random& rnd) {
  return std::llround(std::pow(10.0, rnd.unit() * 6.0) * 100.0);
}

/// Appends letters with a space one time in 13, of length [3, max_length)
/// (at most 100) and trimmed.
void append_string(event_random& rnd, int max_length, std::string& out) {
  constexpr int min_length = 3;
  char buf[100];
  auto length
    = static_cast<size_t>(min_length + rnd.below(max_length - min_length));
  // Each 64-bit draw yields six base-338 digits (338 = 13 * 26, 338^6 <
  // 2^51): digits below 26 are spaces, the others letters.
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < length; ++i) {
    if (left == 0) {
      bits = rnd.next();
      left = 6;
    }
    auto wide = static_cast<unsigned __int128>(bits) * 338;
    auto digit = static_cast<int>(wide >> 64);
    bits = static_cast<uint64_t>(wide);
    --left;
    buf[i] = digit < 26 ? ' ' : static_cast<char>('a' + digit % 26);
  }
  size_t first = 0;
  while (first < length && buf[first] == ' ')
    ++first;
  while (length > first && buf[length - 1] == ' ')
    --length;
  out.append(buf + first, length - first);
}

const std::array<const char*, 11> first_names{
  "Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
  "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
const std::array<const char*, 9> last_names{"Shultz", "Abrams",  "Spencer",
                                            "White",  "Bartels", "Walton",
                                            "Smith",  "Jones",   "Noris"};
const std::array<const char*, 10> us_cities{
  "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
  "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
const std::array<const char*, 6> us_states{"AZ", "CA", "ID", "OR", "WA", "WY"};

/// Every "first last" name, built once.
const std::vector<std::string>& full_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> xs;
    for (auto f : first_names)
      for (auto l : last_names)
        xs.push_back(std::string{f} + ' ' + l);
    return xs;
  }();
  return names;
}

/// Sixteen digits in four blocks: "dddd dddd dddd dddd".
void next_credit_card(event_random& rnd, std::string& out) {
  out.assign(19, ' ');
  for (size_t block = 0; block < 4; ++block) {
    auto x = rnd.below(10000);
    for (size_t i = 4; i-- > 0; x /= 10)
      out[block * 5 + i] = static_cast<char>('0' + x % 10);
  }
}

template <class Array>
const char* pick(event_random& rnd, const Array& xs) {
  return xs[static_cast<size_t>(rnd.below(static_cast<int64_t>(xs.size())))];
}

} // namespace

generator::generator(generator_config config) : config_(config) {
  if (!(config_.event_time_rate > 0) || std::isinf(config_.event_time_rate))
    throw std::invalid_argument("nexmark: the event time rate must be a "
                                "positive number of events per second");
  if (config_.max_out_of_orderness_ms < 0)
    throw std::invalid_argument("nexmark: the out-of-orderness must not be "
                                "negative");
  ms_per_event_ = 1000.0 / config_.event_time_rate;
}

int64_t generator::nominal_time_ms(uint64_t n) const {
  // Rounding a product with a positive factor is monotonic, so nominal
  // times never decrease with n.
  return config_.first_event_time_ms
         + static_cast<int64_t>(
           std::floor(static_cast<double>(n) * ms_per_event_));
}

event_kind generator::kind_of(uint64_t n) {
  auto offset = static_cast<int64_t>(n % total_proportion);
  if (offset < person_proportion)
    return event_kind::person;
  if (offset < person_proportion + auction_proportion)
    return event_kind::auction;
  return event_kind::bid;
}

event generator::generate(uint64_t n) const {
  event e;
  generate(n, e);
  return e;
}

void generator::generate(uint64_t n, event& out) const {
  event_random rnd{config_.seed, n};
  // Fields of the other kinds are zero or empty; clearing keeps the
  // strings' buffers for the next event.
  for (auto* s : {&out.name, &out.email_address, &out.credit_card, &out.city,
                  &out.state, &out.item_name, &out.description})
    s->clear();
  out.id = out.auction_id = out.initial_bid = out.reserve = 0;
  out.expires_ms = out.seller = out.category = 0;
  out.auction = out.bidder = out.price = 0;
  out.kind = kind_of(n);
  out.date_time_ms = nominal_time_ms(n);
  if (config_.max_out_of_orderness_ms > 0
      && rnd.unit() < delayed_event_probability)
    out.date_time_ms -= 1 + rnd.below(config_.max_out_of_orderness_ms);
  switch (out.kind) {
    case event_kind::person: {
      out.id = first_person_id + last_person(n);
      out.name = full_names()[static_cast<size_t>(
        rnd.below(static_cast<int64_t>(full_names().size())))];
      append_string(rnd, 7, out.email_address);
      out.email_address += '@';
      append_string(rnd, 5, out.email_address);
      out.email_address += ".com";
      next_credit_card(rnd, out.credit_card);
      out.city = pick(rnd, us_cities);
      out.state = pick(rnd, us_states);
      break;
    }
    case event_kind::auction: {
      out.auction_id = first_auction_id + last_auction(n);
      auto newest = last_person(n);
      auto seller = rnd.hot(hot_seller_ratio) ? newest / hot_block * hot_block
                                              : active_person(rnd, newest);
      out.seller = first_person_id + seller;
      out.category = first_category_id + rnd.below(num_categories);
      out.initial_bid = next_price(rnd);
      out.reserve = out.initial_bid + next_price(rnd);
      // Auctions last on average as long as it takes to create
      // num_in_flight_auctions more of them, so that about that many are
      // open at any time.
      constexpr auto events_for_auctions
        = num_in_flight_auctions * total_proportion / auction_proportion;
      auto horizon
        = nominal_time_ms(n + events_for_auctions) - nominal_time_ms(n);
      out.expires_ms
        = out.date_time_ms + 1 + rnd.below(std::max<int64_t>(horizon * 2, 1));
      append_string(rnd, 20, out.item_name);
      append_string(rnd, 100, out.description);
      break;
    }
    case event_kind::bid: {
      auto newest_auction = last_auction(n);
      int64_t auction;
      if (rnd.hot(hot_auction_ratio)) {
        auction = newest_auction / hot_block * hot_block;
      } else {
        auto oldest
          = std::max<int64_t>(newest_auction - num_in_flight_auctions, 0);
        auction = oldest + rnd.below(newest_auction - oldest + 1);
      }
      out.auction = first_auction_id + auction;
      auto newest = last_person(n);
      // The second person of the block, so that hot bidders and hot
      // sellers differ, unless that person does not exist yet.
      auto bidder = rnd.hot(hot_bidder_ratio)
                      ? std::min(newest / hot_block * hot_block + 1, newest)
                      : active_person(rnd, newest);
      out.bidder = first_person_id + bidder;
      out.price = next_price(rnd);
      break;
    }
  }
}

const std::vector<std::string>& row_fields() {
  static const std::vector<std::string> fields{
    "event_type",        "date_time",           "person_id",
    "person_name",       "person_email",        "person_credit_card",
    "person_city",       "person_state",        "auction_id",
    "auction_item_name", "auction_description", "auction_initial_bid",
    "auction_reserve",   "auction_expires",     "auction_seller",
    "auction_category",  "bid_auction",         "bid_bidder",
    "bid_price"};
  return fields;
}

namespace {

/// Builds the row of `e`, copying its strings when Event is const and
/// moving them out of it otherwise.
template <class Event>
row make_row(Event& e) {
  auto str = [](auto& s) -> value {
    if constexpr (std::is_const_v<Event>)
      return value{s};
    else
      return value{std::move(s)};
  };
  row r(row_fields().size());
  r[0] = value{static_cast<int64_t>(e.kind)};
  r[1] = value{timestamp{e.date_time_ms}};
  switch (e.kind) {
    case event_kind::person:
      r[2] = value{e.id};
      r[3] = str(e.name);
      r[4] = str(e.email_address);
      r[5] = str(e.credit_card);
      r[6] = str(e.city);
      r[7] = str(e.state);
      break;
    case event_kind::auction:
      r[8] = value{e.auction_id};
      r[9] = str(e.item_name);
      r[10] = str(e.description);
      r[11] = value{e.initial_bid};
      r[12] = value{e.reserve};
      r[13] = value{timestamp{e.expires_ms}};
      r[14] = value{e.seller};
      r[15] = value{e.category};
      break;
    case event_kind::bid:
      r[16] = value{e.auction};
      r[17] = value{e.bidder};
      r[18] = value{e.price};
      break;
  }
  return r;
}

} // namespace

row to_row(const event& e) {
  return make_row(e);
}

row to_row(event&& e) {
  return make_row(e);
}

} // namespace weir::nexmark
