#pragma once
// One error type for every reader and validator in svdit::data. Its message always names the source (a file
// path, or "<memory>"), the object inside it (a dataset, a JSON field, a tensor) and what was expected, so that
// a user can fix the input without reading our code.

#include <stdexcept>
#include <string>

namespace svdit::data {

class FormatError : public std::runtime_error {
 public:
  FormatError(const std::string& source, const std::string& object, const std::string& what)
      : std::runtime_error(source + ": " + object + ": " + what), source_(source), object_(object) {}

  const std::string& source() const { return source_; }
  const std::string& object() const { return object_; }

 private:
  std::string source_;
  std::string object_;
};

}  // namespace svdit::data
