// The Jinja engine, feature by feature. Expected strings are what Jinja2 3.1 renders for the same template
// and variables with transformers' settings (trim_blocks, lstrip_blocks, loop controls, its tojson).
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "model/jinja/template.h"

namespace helix::jinja {
namespace {

Value str(const char* s) { return Value::string(s); }

Value message(const char* role, const char* content) {
  return Value::make_dict({{str("role"), str(role)}, {str("content"), str(content)}});
}

// The variables of the feature table.
Context feature_context() {
  return {
      {"messages", Value::make_list({message("system", " Be brief. "), message("user", "Hi é—x"),
                                     message("assistant", "  yo\n")})},
      {"s", str("Hello World")},
      {"n", Value::integer(5)},
      {"f", Value::number(2.5)},
      {"l", Value::make_list({Value::integer(3), Value::integer(1), Value::integer(2)})},
      {"d", Value::make_dict({{str("b"), Value::integer(1)}, {str("a"), str("x")}})},
      {"e", str("")},
      {"z", Value::none()},
      {"t", Value::boolean(true)},
  };
}

Result<std::string> render(std::string_view source, const Context& context = {}, const RenderLimits& limits = {}) {
  auto tmpl = Template::parse(source);
  if (!tmpl) return Unexpected{tmpl.error()};
  return tmpl->render(context, limits);
}

std::string render_ok(std::string_view source, const Context& context = {}) {
  auto out = render(source, context);
  EXPECT_TRUE(out.has_value()) << source << "\n -> " << (out ? "" : out.error().message);
  return out ? *out : std::string();
}

std::string parse_error(std::string_view source) {
  auto tmpl = Template::parse(source);
  EXPECT_FALSE(tmpl.has_value()) << source;
  return tmpl ? std::string() : tmpl.error().message;
}

std::string render_error(std::string_view source, const Context& context = {}, const RenderLimits& limits = {}) {
  auto out = render(source, context, limits);
  EXPECT_FALSE(out.has_value()) << source << "\n -> " << (out ? *out : "");
  return out ? std::string() : out.error().message;
}

struct FeatureCase {
  const char* group;
  const char* source;
  const char* expected;
};

TEST(JinjaTest, FeaturesRenderAsJinja2Does) {
  const FeatureCase cases[] = {
      {"Literals", "{{ 1 }}|{{ -7 }}|{{ 1.0 }}|{{ 2.5e-3 }}|{{ 1e16 }}|{{ 1_000 }}|{{ 0x1F }}|{{ 0b101 }}|{{ 0o17 }}",
       "1|-7|1.0|0.0025|1e+16|1000|31|5|15"},
      {"Literals", "{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ [1, 'a', none, 1.5] }}|{{ {'k': [1], 2: 'v'} }}|{{ (1,) }}|{{ (1, 'b') }}|{{ () }}",
       "None|None|True|False|[1, 'a', None, 1.5]|{'k': [1], 2: 'v'}|(1,)|(1, 'b')|()"},
      {"Literals", "{{ 'a\\tb' }}|{{ \"q\\\"uote\" }}|{{ 'it\\'s' }}|{{ '\\x41\\u00e9\\U0001F600' }}|{{ '\\q' }}|{{ 'ab' 'cd' }}|{{ [\"it's\", 'a\"b', 'x\\ny'] }}",
       "a\tb|q\"uote|it's|Aé😀|\\q|abcd|[\"it's\", 'a\"b', 'x\\ny']"},
      {"Literals", "{{ 0.1 + 0.2 }}|{{ 1 / 3 }}|{{ 10 / 2 }}|{{ 1e300 * 1e10 }}|{{ 123456789.0 * 1000000 }}|{{ 0.0001 }}|{{ 0.00001 }}",
       "0.30000000000000004|0.3333333333333333|5.0|inf|123456789000000.0|0.0001|1e-05"},
      {"Arithmetic", "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 2 ** 3 ** 2 }}|{{ 2 ** -1 }}|{{ -2 ** 2 }}",
       "7|9|3|-4|1|2|-2|1024|64|0.5|4"},
      {"Arithmetic", "{{ 7 / 2 }}|{{ 7.5 // 2 }}|{{ -7.5 % 2 }}|{{ true + 1 }}|{{ 'ab' * 3 }}|{{ 2 * [0] }}|{{ [1] + [2] }}|{{ 'a' ~ 1 ~ none ~ true ~ 2.0 }}|{{ 'x' + 'y' }}",
       "3.5|3.0|0.5|2|ababab|[0, 0]|[1, 2]|a1NoneTrue2.0|xy"},
      {"Logic", "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ [1, 2] == [1, 2.0] }}|{{ (1,) == [1] }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|{{ 1 != 2 }}",
       "True|False|True|True|True|False|True|True|True"},
      {"Logic", "{{ 'a' in 'cat' }}|{{ 3 not in l }}|{{ 'a' in d }}|{{ 1 in l }}|{{ not true }}|{{ not 0 }}|{{ 1 and 2 }}|{{ 0 and 2 }}|{{ 0 or 'x' }}|{{ none or '' }}|{{ 'yes' if t else 'no' }}|{{ 'yes' if e else 'no' }}",
       "True|False|True|True|False|True|2|0|x||yes|no"},
      {"Access", "{{ messages[1].role }}|{{ messages[1]['content'] }}|{{ messages[-1].role }}|{{ d.a }}|{{ d['b'] }}|{{ l.1 }}|{{ d.missing }}|{{ l[10] }}|{{ s[0] }}|{{ s[-1] }}",
       "user|Hi é—x|assistant|x|1|1|||H|d"},
      {"Access", "{{ s[1:4] }}|{{ s[::-1] }}|{{ s[::2] }}|{{ l[1:] }}|{{ l[:-1] }}|{{ l[10:] }}|{{ messages[1:]|length }}|{{ 'héllo'[1:3] }}|{{ 'héllo'[1] }}",
       "ell|dlroW olleH|HloWrd|[1, 2]|[3, 1]|[]|2|él|é"},
      {"StringMethods", "{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ 'hELLO'.capitalize() }}|{{ '  x  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  x  '.lstrip() }}.|{{ '  x  '.rstrip() }}.",
       "HELLO WORLD|hello world|Hello World|Hello|x|a|x  .|  x."},
      {"StringMethods", "{{ s.split() }}|{{ s.split('o') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ ' a  b '.split() }}|{{ 'a\\nb\\r\\nc'.splitlines() }}",
       "['Hello', 'World']|['Hell', ' W', 'rld']|['a', 'b,c']|['a,b', 'c']|['a', 'b']|['a', 'b', 'c']"},
      {"StringMethods", "{{ s.startswith('He') }}|{{ s.endswith(('x', 'd')) }}|{{ s.replace('l', 'L') }}|{{ s.replace('l', 'L', 2) }}|{{ s.find('W') }}|{{ 'é—x'.find('x') }}|{{ s.count('l') }}|{{ '-'.join(['a', 'b']) }}|{{ '12'.isdigit() }}|{{ 'ab'.isalpha() }}",
       "True|True|HeLLo WorLd|HeLLo World|6|2|3|a-b|True|True"},
      {"DictMethods", "{{ d.items()|list }}|{{ d.keys()|list }}|{{ d.values()|list }}|{{ d.get('b') }}|{{ d.get('q') }}|{{ d.get('q', 9) }}|{{ l.count(1) }}|{{ l.index(2) }}",
       "[('b', 1), ('a', 'x')]|['b', 'a']|[1, 'x']|1|None|9|1|2"},
      {"Filters", "{{ s|upper }}|{{ s|lower }}|{{ s|length }}|{{ l|length }}|{{ d|count }}|{{ 'é—x'|length }}|{{ 'hello wORLD-x (y'|title }}|{{ 'hELLO'|capitalize }}|{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}",
       "HELLO WORLD|hello world|11|3|2|3|Hello World-X (Y|Hello|a b|a"},
      {"Filters", "{{ l|first }}|{{ l|last }}|{{ s|first }}|{{ l|join('-') }}|{{ l|join }}|{{ messages|join(', ', attribute='role') }}|{{ l|sort }}|{{ l|sort(reverse=true) }}|{{ l|reverse|list }}|{{ s|reverse }}",
       "3|2|H|3-1-2|312|system, user, assistant|[1, 2, 3]|[3, 2, 1]|[2, 1, 3]|dlroW olleH"},
      {"Filters", "{{ ['b', 'A', 'a']|sort }}|{{ ['b', 'A', 'a']|sort(case_sensitive=true) }}|{{ ['b', 'A', 'a', 'B']|unique|list }}|{{ l|max }}|{{ l|min }}|{{ l|sum }}|{{ messages|sort(attribute='role')|map(attribute='role')|list }}",
       "['A', 'a', 'b']|['A', 'a', 'b']|['b', 'A']|3|1|6|['assistant', 'system', 'user']"},
      {"Filters", "{{ messages|map(attribute='role')|join(',') }}|{{ ['a', 'b']|map('upper')|list }}|{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|{{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }}|{{ [1, 2, 3, 4]|select('odd')|list }}|{{ [1, 2, 3, 4]|reject('even')|list }}|{{ [0, 1, '', 'a']|select|list }}",
       "system,user,assistant|['A', 'B']|1|['system', 'assistant']|[1, 3]|[1, 3]|[1, 'a']"},
      {"Filters", "{{ x|default('dflt') }}|{{ e|default('dflt') }}|{{ e|default('dflt', true) }}|{{ z|d('d') }}|{{ d|dictsort }}|{{ d|items|list }}|{{ 'a<b>&\"'|e }}|{{ 'x'|safe }}|{{ 42|string }}",
       "dflt||dflt|None|[('a', 'x'), ('b', 1)]|[('b', 1), ('a', 'x')]|a&lt;b&gt;&amp;&#34;|x|42"},
      {"Filters", "{{ 'x'|replace('x', 'yy') }}|{{ 1.7|int }}|{{ '12'|int }}|{{ '0x1A'|int(0, 0) }}|{{ 'x'|int(7) }}|{{ '42.9'|int }}|{{ '3.5'|float }}|{{ 3|float }}|{{ -3|abs }}|{{ 2.675|round(2) }}|{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.1|round(method='ceil') }}|{{ 5|round }}",
       "yy|1|12|26|7|42|3.5|3.0|3|2.67|2.0|4.0|3.0|5"},
      {"Filters", "{{ 'a\\nb\\n'|indent(2) }}|{{ 'a\\n\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}",
       "a\n  b\n|  a\n\n  b|a\n  \n  b|a\n> b"},
      {"Filters", "{{ d|tojson }}|{{ messages[1]|tojson }}|{{ 'é\\n\"<'|tojson }}|{{ d|tojson(sort_keys=true) }}|{{ [1.0, 2.5, none, true]|tojson }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ {'a': [1, {}], 'b': []}|tojson(indent=2) }}",
       "{\"b\": 1, \"a\": \"x\"}|{\"role\": \"user\", \"content\": \"Hi é—x\"}|\"é\\n\\\"<\"|{\"a\": \"x\", \"b\": 1}|[1.0, 2.5, null, true]|\"\\u00e9\"|{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"},
      {"Tests", "{{ x is defined }}|{{ s is defined }}|{{ x is undefined }}|{{ z is none }}|{{ z is not none }}|{{ s is string }}|{{ n is number }}|{{ n is integer }}|{{ f is float }}|{{ t is boolean }}|{{ t is true }}|{{ e is false }}",
       "False|True|True|True|False|True|True|True|True|True|True|False"},
      {"Tests", "{{ l is iterable }}|{{ d is mapping }}|{{ l is sequence }}|{{ n is odd }}|{{ n is even }}|{{ n is divisibleby 5 }}|{{ n is divisibleby(2) }}|{{ 'ab' is lower }}|{{ 'AB' is upper }}|{{ 1 is in l }}|{{ z is sameas none }}|{{ n is eq 5 }}|{{ n is gt 3 }}|{{ range is callable }}",
       "True|True|True|True|False|True|False|True|True|True|True|True|True|True"},
      {"Loops", "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.cycle('x', 'y') }}{% if not loop.last %},{% endif %}{% endfor %}",
       "1032TrueFalse3x,2121FalseFalse3y,3210FalseTrue3x"},
      {"Loops", "{% for x in l %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}",
       "[<3>1][3<1>2][1<2>]"},
      {"Loops", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
       "0134"},
      {"Loops", "{% for i in range(3) if i != 1 %}{{ i }}:{{ loop.index }}/{{ loop.length }} {% else %}empty{% endfor %}|{% for i in [] %}x{% else %}empty{% endfor %}",
       "0:1/2 2:2/2 |empty"},
      {"Loops", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for c in 'é—x' %}<{{ c }}>{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for a in x %}never{% endfor %}",
       "b=1;a=x;|<é><—><x>|ba|"},
      {"Loops", "{% for row in [[1, 2], [3]] %}{% for v in row %}{{ loop.depth }}{{ v }}{% endfor %}{{ loop.depth }};{% endfor %}",
       "11121;131;"},
      {"Loops", "{{ range(3)|list }}|{{ range(1, 10, 3)|list }}|{{ range(5, 0, -2)|list }}|{{ range(0)|list }}",
       "[0, 1, 2]|[1, 4, 7]|[5, 3, 1]|[]"},
      {"Assignment", "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.found }} {{ ns.count }}",
       "True 3"},
      {"Assignment", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set x = 5 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }};{% endfor %}{{ x }}",
       "12510;520;5"},
      {"Assignment", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}|{% set t2 = 1, 2 %}{{ t2 }}|{% set block %}inner {{ n }}{% endset %}[{{ block }}]",
       "3|(1, 2)|[inner 5]"},
      {"Assignment", "{% set d2 = dict(a=1, b='x') %}{{ d2 }}|{% set ns = namespace(d2) %}{{ ns.b }}",
       "{'a': 1, 'b': 'x'}|x"},
      {"Macros", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='\?') }} {{ greet(name='Z') }}",
       "Hi Bob! Hi Al\? Hi Z!"},
      {"Macros", "{% macro outer(x) %}({{ inner(x) }}){% endmacro %}{% macro inner(y) %}<{{ y }}>{% endmacro %}{{ outer(1) }}|{% set q = 7 %}{% macro sees_top() %}{{ q }}{% endmacro %}{{ sees_top() }}",
       "(<1>)|7"},
      {"RawAndComments", "{% raw %}{{ not parsed }}{% endraw %}|{# a comment #}after|{#- trimmed -#}  x",
       "{{ not parsed }}|after|x"},
  };
  const Context context = feature_context();
  for (const FeatureCase& c : cases) {
    EXPECT_EQ(render_ok(c.source, context), c.expected) << c.group << ": " << c.source;
  }
}

struct WhitespaceCase {
  const char* what;
  const char* source;
  const char* expected;
};

TEST(JinjaTest, WhitespaceControlTrimBlocksAndLstripBlocks) {
  const WhitespaceCase cases[] = {
      {"trim_blocks removes the newline after a block tag", "{% if true %}\nyes\n{% endif %}\nafter", "yes\nafter"},
      {"but not after a print tag", "{{ 'a' }}\n{{ 'b' }}\n", "a\nb"},
      {"trim_blocks applies to comments", "x{# c #}\ny", "xy"},
      {"lstrip_blocks removes indentation before a block tag", "<\n    {% if true %}\n    body\n    {% endif %}\n>", "<\n    body\n>"},
      {"lstrip_blocks leaves text before the tag on the same line", "a  {% if true %}b{% endif %}", "a  b"},
      {"lstrip_blocks does not touch print tags", "    {{ 'x' }}\n", "    x"},
      {"lstrip_blocks at the start of the template", "  \t{% if true %}x{% endif %}", "x"},
      {"minus strips all whitespace before", "a \n\t {%- if true %}b{% endif %}", "ab"},
      {"minus strips all whitespace after", "{% if true -%}  \n\n  b{% endif %}", "b"},
      {"minus on print tags", "a  {{- 'b' -}}  \n c", "abc"},
      {"minus on comments", "a  {#- c -#}  b", "ab"},
      {"plus keeps lstrip", "x\n  {%+ if true %}y{% endif %}", "x\n  y"},
      {"plus keeps trim_blocks", "{% if true +%}\ny{% endif %}", "\ny"},
      {"one trailing newline of the template is dropped", "line\n\n", "line\n"},
      {"CRLF becomes LF", "a\r\nb\rc", "a\nb\nc"},
      {"raw keeps tags as text", "{% raw %}\n  {{ x }} {% if %}\n{% endraw %}\nz", "\n  {{ x }} {% if %}\nz"},
      {"nested loops with indentation", "{% for i in [1, 2] %}\n  {% for j in 'ab' %}\n    {{ i }}{{ j }}\n  {% endfor %}\n{% endfor %}", "    1a\n    1b\n    2a\n    2b\n"},
      {"set block with trimming", "{% set x %}\n  a\n{% endset %}[{{ x }}]", "[  a\n]"},
      {"whitespace-only line kept when the tag has other text before it", "  x {% if true %}\n{% endif %}|", "  x |"},
      {"non-breaking space counts as whitespace for minus", "a\xc2\xa0" "{%- if true %}b{% endif %}", "ab"},
  };
  for (const WhitespaceCase& c : cases) EXPECT_EQ(render_ok(c.source), c.expected) << c.what;
}

TEST(JinjaTest, OptionsCanTurnTrimmingOff) {
  TemplateOptions options;
  options.trim_blocks = false;
  options.lstrip_blocks = false;
  options.keep_trailing_newline = true;
  auto tmpl = Template::parse("  {% if true %}\nx\n  {% endif %}\n", options);
  ASSERT_TRUE(tmpl.has_value());
  auto out = tmpl->render({});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "  \nx\n  \n");
}

TEST(JinjaTest, UndefinedValuesFollowJinjaDefaultUndefined) {
  const Context context = feature_context();
  // Printing, testing, iterating and defaulting an undefined value is fine...
  EXPECT_EQ(render_ok("[{{ missing }}]{{ missing is defined }}{% for x in missing %}x{% endfor %}{{ missing|length }}"
                      "{{ missing|default('d') }}{{ missing == missing }}{{ d.nope is defined }}",
                      context),
            "[]False0dTrueFalse");
  // ...using it is an error naming it.
  EXPECT_EQ(render_error("{{ missing.attr }}", context), "line 1, column 11: 'missing' is undefined");
  EXPECT_EQ(render_error("{{ d.nope.deeper }}", context), "line 1, column 10: 'dict object' has no attribute 'nope'");
  EXPECT_EQ(render_error("{{ l[7].x }}", context), "line 1, column 8: list object has no element 7");
  EXPECT_EQ(render_error("{{ missing + 1 }}", context), "line 1, column 4: 'missing' is undefined");
  EXPECT_EQ(render_error("{{ missing() }}", context), "line 1, column 11: 'missing' is undefined");
}

TEST(JinjaTest, RaiseExceptionGivesTheMessageVerbatim) {
  auto out = render("{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message, "Roles must alternate");
  EXPECT_EQ(out.error().param, kRaisedErrorParam);
  // Also from inside a macro, with no location added on the way out.
  out = render("{% macro check() %}{{ raise_exception('no') }}{% endmacro %}{{ check() }}");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message, "no");
}

TEST(JinjaTest, RuntimeTypeErrorsNameTheProblem) {
  const Context context = feature_context();
  EXPECT_EQ(render_error("{{ 'a' + 1 }}"), "line 1, column 4: unsupported operand type(s) for +: 'str' and 'int'");
  EXPECT_EQ(render_error("{{ 1 // 0 }}"), "line 1, column 4: integer division or modulo by zero");
  EXPECT_EQ(render_error("{{ 1 < 'a' }}"), "line 1, column 4: '<' not supported between instances of 'int' and 'str'");
  EXPECT_EQ(render_error("{% for x in 5 %}{% endfor %}"), "line 1, column 13: 'int' object is not iterable");
  EXPECT_EQ(render_error("{% set x = 1 %}{% set x.a = 2 %}"),
            "line 1, column 19: cannot assign attribute 'a' on 'x': it is not a namespace()");
  EXPECT_EQ(render_error("{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
            "line 1, column 4: too many values to unpack (expected 2)");
  EXPECT_EQ(render_error("{{ s.replace('l') }}", context), "line 1, column 13: replace() missing required argument 'new'");
  EXPECT_EQ(render_error("{{ 9223372036854775807 + 1 }}"), "line 1, column 4: integer overflow in '+'");
  EXPECT_EQ(render_error("{{ (1 if false).x }}"),
            "line 1, column 16: the inline if-expression on line 1 evaluated to false and no else section was defined.");
}

TEST(JinjaTest, ParseErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("ok\n{% if x %}"),
            "line 2, column 11: unexpected end of template: expected 'elif' or 'else' or 'endif' to close the 'if' block");
  EXPECT_EQ(parse_error("a {{ x"), "line 1, column 3: unexpected end of template: '{{' is never closed with '}}'");
  EXPECT_EQ(parse_error("{% if x"), "line 1, column 1: unexpected end of template: '{%' tag is never closed with '%}'");
  EXPECT_EQ(parse_error("{# open"), "line 1, column 1: missing end of comment tag ('#}')");
  EXPECT_EQ(parse_error("{% raw %}x"), "line 1, column 1: missing end of raw directive ({% endraw %})");
  EXPECT_EQ(parse_error("\n  {{ 'abc }}"), "line 2, column 6: unterminated string literal");
  EXPECT_EQ(parse_error("{% frobnicate %}"), "line 1, column 4: unknown tag 'frobnicate'");
  EXPECT_EQ(parse_error("{% endif %}"), "line 1, column 4: unexpected 'endif': no open block to close");
  EXPECT_EQ(parse_error("{% for x in y %}{% endif %}"),
            "line 1, column 20: unexpected 'endif': the open 'for' block needs 'endfor' or 'else' first");
  EXPECT_EQ(parse_error("{{ x | nosuchfilter }}"), "line 1, column 8: no filter named 'nosuchfilter'");
  EXPECT_EQ(parse_error("{{ x is nosuchtest }}"), "line 1, column 9: no test named 'nosuchtest'");
  EXPECT_EQ(parse_error("{{ 1 + }}"), "line 1, column 8: unexpected end of print statement ('}}')");
  EXPECT_EQ(parse_error("{{ (1 }}"), "line 1, column 7: unexpected '}', expected ')'");
  EXPECT_EQ(parse_error("{{ a ? b }}"), "line 1, column 6: unexpected character '?'");
  EXPECT_EQ(parse_error("{% break %}"), "line 1, column 4: 'break' outside a for loop");
  EXPECT_EQ(parse_error("{{ 99999999999999999999 }}"), "line 1, column 4: integer literal 99999999999999999999 does not fit in 64 bits");
  EXPECT_EQ(parse_error("{{ '\\x4' }}"), "line 1, column 4: truncated \\xXX escape in string literal");
}

TEST(JinjaTest, UnknownFilterInsideIfFailsOnlyWhenReached) {
  // Like Jinja: an if block may use a filter this engine lacks as long as that branch is not taken.
  EXPECT_EQ(render_ok("{% if false %}{{ x|nosuchfilter }}{% endif %}ok"), "ok");
  EXPECT_EQ(render_error("{% if true %}{{ x|nosuchfilter }}{% endif %}"), "line 1, column 19: no filter named 'nosuchfilter'");
}

TEST(JinjaTest, DeepNestingIsRefusedNotACrash) {
  const std::string parens = std::string(100000, '(') + "1" + std::string(100000, ')');
  EXPECT_NE(parse_error("{{ " + parens + " }}").find("nested deeper than"), std::string::npos);
  std::string nots = "{{ ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_NE(parse_error(nots + "1 }}").find("nested deeper than"), std::string::npos);
  // A long flat chain builds a deep tree without recursing in the parser.
  std::string sum = "{{ 1";
  for (int i = 0; i < 100000; ++i) sum += " + 1";
  EXPECT_NE(parse_error(sum + " }}").find("nested deeper than"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 10000; ++i) ifs += "{% if true %}";
  EXPECT_NE(parse_error(ifs).find("blocks nested deeper than"), std::string::npos);
  // Within the bounds, nesting works.
  EXPECT_EQ(render_ok("{{ " + std::string(50, '(') + "7" + std::string(50, ')') + " }}"), "7");
}

TEST(JinjaTest, HugeLoopsAndOutputsHitLimits) {
  RenderLimits limits;
  limits.max_steps = 10000;
  limits.max_output_bytes = 1 << 16;
  EXPECT_NE(render_error("{% for i in range(1000000) %}{% endfor %}", {}, limits).find("more than 10000 steps"),
            std::string::npos);
  EXPECT_NE(render_error("{% for i in range(100) %}{% for j in range(100) %}{% for k in range(100) %}"
                         "{% endfor %}{% endfor %}{% endfor %}",
                         {}, limits)
                .find("steps"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 'x' * 100000000000 }}", {}, limits).find("over the limit"), std::string::npos);
  EXPECT_NE(render_error("{% for i in range(1000) %}{{ 'abcdefghij' * 10 }}{% endfor %}", {}, limits)
                .find("output is over the limit of 65536 bytes"),
            std::string::npos);
  EXPECT_NE(render_error("{{ range(10000000000000) }}", {}, limits).find("work limit"), std::string::npos);
  EXPECT_NE(render_error("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                         "{% endfor %}",
                         {}, limits)
                .find("over the limit"),
            std::string::npos);
  // Work on long strings counts too: their characters as list items, and a scan per index.
  RenderLimits small_work;
  small_work.max_work_bytes = 1 << 22;
  EXPECT_NE(render_error("{% set s = 'x' * 1000000 %}{% for c in s %}{% endfor %}", {}, small_work).find("work limit"),
            std::string::npos);
  EXPECT_NE(render_error("{% set s = 'x' * 100000 %}{% for i in range(1000) %}{{ s[i] }}{% endfor %}", {}, small_work)
                .find("work limit"),
            std::string::npos);
  // Recursion through macros stops at the call depth limit.
  EXPECT_NE(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("macro calls nested deeper"),
            std::string::npos);
  // A namespace that holds itself prints without looping forever.
  EXPECT_NE(render_ok("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}").find("{...}"), std::string::npos);
}

TEST(JinjaTest, RendersFromSeveralThreadsAtOnce) {
  auto tmpl = Template::parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(tmpl.has_value());
  const Context context = feature_context();
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) results[t] = tmpl->render(context).value();
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, "3");
}

// Random templates built from Jinja fragments, and random mutations of a real template: parsing and
// rendering must return (a result or an error) without crashing, under ASan in CI too.
TEST(JinjaTest, RandomTemplatesNeverCrash) {
  const char* pieces[] = {"{%", "%}", "{{", "}}", "{#", "#}", "-", "+", " ", "\n", "'", "\"", "(", ")", "[", "]",
                          "{", "}", "|", ".", ",", ":", "=", "if", "endif", "for", "endfor", "else", "elif", "set",
                          "in", "not", "and", "or", "is", "none", "loop", "x", "1", "~", "*", "/", "%", "messages",
                          "range(", "namespace(", "macro", "endmacro", "raw", "endraw", "break", "continue",
                          "upper", "join", "tojson", "defined", "ns.a", "\\", "0x", "1e9", "**", "//", "é", "\xff"};
  const std::string seed_template =
      "{% set ns = namespace(a=0) %}{% for m in messages %}{% if m.role == 'user' %}{{ m.content|trim }}"
      "{% set ns.a = ns.a + 1 %}{% elif loop.last %}{{ m.content[1:] ~ ns.a }}{% endif %}{% endfor %}";
  std::mt19937 rng(20240607);
  RenderLimits limits;
  limits.max_steps = 20000;
  limits.max_output_bytes = 1 << 16;
  limits.max_work_bytes = 1 << 22;
  const Context context = feature_context();
  int parsed = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    std::string source;
    if (iteration % 2 == 0) {
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) source += pieces[rng() % std::size(pieces)];
    } else {
      source = seed_template;
      for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
        const size_t at = rng() % (source.size() + 1);
        if (rng() % 2) {
          source.erase(at, rng() % 6);
        } else {
          source.insert(at, pieces[rng() % std::size(pieces)]);
        }
      }
    }
    auto tmpl = Template::parse(source);
    if (!tmpl) {
      EXPECT_FALSE(tmpl.error().message.empty()) << source;
      continue;
    }
    ++parsed;
    auto out = tmpl->render(context, limits);
    if (!out) {
      EXPECT_FALSE(out.error().message.empty()) << source;
    }
  }
  // The mutations keep many templates valid, so rendering is exercised too.
  EXPECT_GT(parsed, 500);
}

}  // namespace
}  // namespace helix::jinja
