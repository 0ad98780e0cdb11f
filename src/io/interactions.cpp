// The LightGCN/NGCF interaction text layout. See include/ripple/interactions.h.
#include "ripple/interactions.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

constexpr int64_t kUndeclared = -1;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path.string(), "cannot open", errno);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw_file_error(path.string(), "cannot read", errno);
  return s.str();
}

// The lines of one file, each a user and its items, in file order.
struct UserLine {
  int64_t line = 0, user = 0;
  std::vector<int64_t> items;
};

struct ParsedFile {
  std::vector<UserLine> users;
  int64_t max_user = -1, max_item = -1;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Reads "USER ITEM ITEM ..." lines; ids must be non-negative integers below the declared
// counts (when declared).
ParsedFile parse_interaction_file(const fs::path& path, int64_t num_users, int64_t num_items) {
  const std::string text = read_text(path);
  ParsedFile out;
  int64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line;
    UserLine entry;
    entry.line = line;
    bool first = true;
    int64_t field = 0;
    for (size_t p = pos; p < end;) {
      if (is_space(text[p])) {
        ++p;
        continue;
      }
      size_t q = p;
      while (q < end && !is_space(text[q])) ++q;
      ++field;
      const std::string_view token(text.data() + p, q - p);
      int64_t id = -1;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
      const char* what = first ? "user id" : "item id";
      if (ec != std::errc() || ptr != token.data() + token.size() || id < 0) {
        throw InputError(fmt::format("{}:{}: field {} \"{}\": expected a non-negative integer {}", path.string(), line,
                                     field, token, what));
      }
      const int64_t limit = first ? num_users : num_items;
      if (limit != kUndeclared && id >= limit) {
        throw InputError(fmt::format("{}:{}: field {}: {} {} is beyond the {} declared {}s (ids 0..{})", path.string(),
                                     line, field, what, id, limit, first ? "user" : "item", limit - 1));
      }
      if (first) {
        entry.user = id;
        out.max_user = std::max(out.max_user, id);
      } else {
        entry.items.push_back(id);
        out.max_item = std::max(out.max_item, id);
      }
      first = false;
      p = q;
    }
    if (!first) out.users.push_back(std::move(entry));
    pos = end + 1;
  }
  return out;
}

// Lines after the header of user_list.txt / item_list.txt, or kUndeclared without the file.
int64_t declared_count(const fs::path& path) {
  if (!fs::exists(path)) return kUndeclared;
  const std::string text = read_text(path);
  int64_t lines = 0;
  bool content = false;
  for (const char c : text) {
    if (c == '\n') {
      lines += content ? 1 : 0;
      content = false;
    } else if (!is_space(c)) {
      content = true;
    }
  }
  lines += content ? 1 : 0;
  if (lines < 1) throw InputError(fmt::format("{}: empty; expected a header line, then one line per id", path.string()));
  return lines - 1;
}

// The CSR of a parsed file; `file` names it in errors.
UserItems to_user_items(ParsedFile& parsed, int64_t num_users, const fs::path& file) {
  std::vector<int64_t> line_of(static_cast<size_t>(num_users), 0);
  for (UserLine& u : parsed.users) {
    int64_t& seen = line_of[static_cast<size_t>(u.user)];
    if (seen != 0) {
      throw InputError(fmt::format("{}:{}: user {} is already listed at line {}; expected one line per user",
                                   file.string(), u.line, u.user, seen));
    }
    seen = u.line;
    std::sort(u.items.begin(), u.items.end());
    const auto dup = std::adjacent_find(u.items.begin(), u.items.end());
    if (dup != u.items.end()) {
      throw InputError(fmt::format("{}:{}: item {} appears twice for user {}; expected each item once per line",
                                   file.string(), u.line, *dup, u.user));
    }
  }
  UserItems out;
  out.indptr = at::zeros({num_users + 1}, at::kLong);
  int64_t* indptr = out.indptr.data_ptr<int64_t>();
  for (const UserLine& u : parsed.users) indptr[u.user + 1] = static_cast<int64_t>(u.items.size());
  for (int64_t i = 0; i < num_users; ++i) indptr[i + 1] += indptr[i];
  out.items = at::empty({indptr[num_users]}, at::kLong);
  int64_t* items = out.items.data_ptr<int64_t>();
  for (const UserLine& u : parsed.users) std::copy(u.items.begin(), u.items.end(), items + indptr[u.user]);
  return out;
}

}  // namespace

int64_t UserItems::count(int64_t user) const {
  const int64_t* p = indptr.data_ptr<int64_t>();
  return p[user + 1] - p[user];
}

at::Tensor InteractionDataset::train_pairs() const {
  const int64_t n = train.size();
  at::Tensor out = at::empty({2, n}, at::kLong);
  int64_t* users = out.data_ptr<int64_t>();
  const int64_t* indptr = train.indptr.data_ptr<int64_t>();
  for (int64_t u = 0; u < num_users; ++u) std::fill(users + indptr[u], users + indptr[u + 1], u);
  out[1].copy_(train.items);
  return out;
}

InteractionDataset load_interactions(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw InputError(fmt::format("{}: not a directory; expected train.txt and test.txt in the LightGCN layout",
                                 dir.string()));
  }
  const fs::path train_file = dir / "train.txt", test_file = dir / "test.txt";
  const int64_t declared_users = declared_count(dir / "user_list.txt");
  const int64_t declared_items = declared_count(dir / "item_list.txt");
  ParsedFile train = parse_interaction_file(train_file, declared_users, declared_items);
  ParsedFile test = parse_interaction_file(test_file, declared_users, declared_items);
  InteractionDataset d;
  d.num_users = declared_users != kUndeclared ? declared_users : std::max(train.max_user, test.max_user) + 1;
  d.num_items = declared_items != kUndeclared ? declared_items : std::max(train.max_item, test.max_item) + 1;
  d.train = to_user_items(train, d.num_users, train_file);
  d.test = to_user_items(test, d.num_users, test_file);
  if (d.train.size() == 0) throw InputError(fmt::format("{}: no interaction; expected USER ITEM ... lines", train_file.string()));
  if (d.test.size() == 0) {
    throw InputError(fmt::format("{}: no interaction; expected at least one USER ITEM ... line to evaluate on",
                                 test_file.string()));
  }
  // Every test user has training items, none of them also a test item.
  const int64_t* train_ptr = d.train.indptr.data_ptr<int64_t>();
  const int64_t* train_items = d.train.items.data_ptr<int64_t>();
  for (const UserLine& u : test.users) {
    if (u.items.empty()) continue;
    const int64_t* begin = train_items + train_ptr[u.user];
    const int64_t* end = train_items + train_ptr[u.user + 1];
    if (begin == end) {
      throw InputError(fmt::format("{}:{}: user {} has test items but no training items in {}; expected every test "
                                   "user to have training interactions", test_file.string(), u.line, u.user,
                                   train_file.string()));
    }
    for (const int64_t item : u.items) {
      if (std::binary_search(begin, end, item)) {
        throw InputError(fmt::format("{}:{}: item {} of user {} is also a training item in {}; expected disjoint "
                                     "train and test interactions", test_file.string(), u.line, item, u.user,
                                     train_file.string()));
      }
    }
  }
  return d;
}

}  // namespace ripple
