#include "operators/nexmark_reference.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace weir::nexmark::reference {

namespace {

constexpr int64_t window_ms = 10'000;
constexpr int64_t slide_ms = 2'000;

std::vector<row> sorted(std::vector<row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// The largest multiple of `step` not above `t`, also for negative t.
int64_t align_down(int64_t t, int64_t step) {
  auto q = t / step;
  if (t % step != 0 && t < 0)
    --q;
  return q * step;
}

template <class F>
void for_each_bid(const std::vector<event>& events, F f) {
  for (const auto& e : events)
    if (e.kind == event_kind::bid)
      f(e);
}

} // namespace

std::vector<row> q0(const std::vector<event>& events) {
  std::vector<row> out;
  for_each_bid(events, [&](const event& b) {
    out.push_back({value{b.auction}, value{b.bidder}, value{b.price},
                   value{timestamp{b.date_time_ms}}});
  });
  return sorted(std::move(out));
}

std::vector<row> q1(const std::vector<event>& events) {
  std::vector<row> out;
  for_each_bid(events, [&](const event& b) {
    out.push_back({value{b.auction}, value{b.bidder},
                   value{static_cast<double>(b.price) * 0.908},
                   value{timestamp{b.date_time_ms}}});
  });
  return sorted(std::move(out));
}

std::vector<row> q2(const std::vector<event>& events) {
  std::vector<row> out;
  for_each_bid(events, [&](const event& b) {
    if (b.auction % 123 == 0)
      out.push_back({value{b.auction}, value{b.price}});
  });
  return sorted(std::move(out));
}

std::vector<row> q3(const std::vector<event>& events) {
  std::map<int64_t, const event*> people;
  for (const auto& e : events)
    if (e.kind == event_kind::person
        && (e.state == "OR" || e.state == "ID" || e.state == "CA"))
      people.emplace(e.id, &e);
  std::vector<row> out;
  for (const auto& a : events) {
    if (a.kind != event_kind::auction || a.category != 10)
      continue;
    auto p = people.find(a.seller);
    if (p != people.end())
      out.push_back({value{p->second->name}, value{p->second->city},
                     value{p->second->state}, value{a.auction_id}});
  }
  return sorted(std::move(out));
}

std::vector<row> q4(const std::vector<event>& events) {
  std::map<int64_t, std::vector<const event*>> bids;
  for_each_bid(events, [&](const event& b) { bids[b.auction].push_back(&b); });
  struct totals {
    int64_t sum = 0;
    int64_t count = 0;
  };
  std::map<int64_t, totals> by_category;
  for (const auto& a : events) {
    if (a.kind != event_kind::auction)
      continue;
    auto i = bids.find(a.auction_id);
    if (i == bids.end())
      continue;
    bool found = false;
    int64_t final_price = 0;
    for (const auto* b : i->second) {
      if (a.date_time_ms <= b->date_time_ms
          && b->date_time_ms <= a.expires_ms) {
        final_price = found ? std::max(final_price, b->price) : b->price;
        found = true;
      }
    }
    if (!found)
      continue;
    auto& t = by_category[a.category];
    t.sum += final_price;
    ++t.count;
  }
  std::vector<row> out;
  for (const auto& [category, t] : by_category)
    out.push_back({value{category}, value{static_cast<double>(t.sum)
                                          / static_cast<double>(t.count)}});
  return sorted(std::move(out));
}

std::vector<row> q5(const std::vector<event>& events) {
  // window start -> auction -> bids
  std::map<int64_t, std::map<int64_t, int64_t>> counts;
  for_each_bid(events, [&](const event& b) {
    auto last = align_down(b.date_time_ms, slide_ms);
    for (auto start = last; start > b.date_time_ms - window_ms;
         start -= slide_ms)
      ++counts[start][b.auction];
  });
  std::vector<row> out;
  for (const auto& [start, per_auction] : counts) {
    int64_t most = 0;
    for (const auto& [auction, n] : per_auction)
      most = std::max(most, n);
    for (const auto& [auction, n] : per_auction)
      if (n == most)
        out.push_back(
          {value{auction}, value{n}, value{timestamp{start + window_ms}}});
  }
  return sorted(std::move(out));
}

std::vector<row> q7(const std::vector<event>& events) {
  std::map<int64_t, int64_t> highest;
  for_each_bid(events, [&](const event& b) {
    auto start = align_down(b.date_time_ms, window_ms);
    auto [it, fresh] = highest.emplace(start, b.price);
    if (!fresh)
      it->second = std::max(it->second, b.price);
  });
  std::vector<row> out;
  for_each_bid(events, [&](const event& b) {
    if (b.price == highest.at(align_down(b.date_time_ms, window_ms)))
      out.push_back({value{b.auction}, value{b.price}, value{b.bidder},
                     value{timestamp{b.date_time_ms}}});
  });
  return sorted(std::move(out));
}

std::vector<row> q8(const std::vector<event>& events) {
  // (window start, seller) of every auction
  std::set<std::pair<int64_t, int64_t>> sellers;
  for (const auto& a : events)
    if (a.kind == event_kind::auction)
      sellers.emplace(align_down(a.date_time_ms, window_ms), a.seller);
  std::set<row> out;
  for (const auto& p : events) {
    if (p.kind != event_kind::person)
      continue;
    auto start = align_down(p.date_time_ms, window_ms);
    if (sellers.count({start, p.id}) > 0)
      out.insert({value{p.id}, value{p.name}, value{timestamp{start}}});
  }
  return {out.begin(), out.end()};
}

} // namespace weir::nexmark::reference
