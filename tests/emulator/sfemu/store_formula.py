"""A small evaluator for the Salesforce formulas estates use in validation rules.

Enough of the formula language to make profile-dependent rules bite the way they do in real orgs
(`AND(ISBLANK(Industry), $Profile.Name <> 'Integration Admin')`): AND, OR, NOT, IF, ISBLANK, ISNULL,
TEXT, ISPICKVAL, BEGINS, CONTAINS, TODAY, NOW, comparison operators, &&, ||, string/number/boolean
literals, record fields and the $Profile / $User globals. A formula outside this subset raises
`FormulaError`; the store then skips the rule rather than guess.
"""
import datetime
import re

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><>|!=|<=|>=|==|&&|\|\||[=<>(),&+\-*/!])
)""", re.X)


class FormulaError(ValueError):
    pass


def tokenize(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FormulaError("unexpected %r at %d" % (text[pos:pos + 10], pos))
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    """Precedence, lowest first: || ; && ; comparisons ; & and + - ; * / ; unary ; primary."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        token = self.peek()
        if token[0] is None or (value is not None and token[1] != value):
            raise FormulaError("expected %r" % (value or "a value"))
        self.pos += 1
        return token

    def parse(self):
        tree = self.or_expr()
        if self.pos != len(self.tokens):
            raise FormulaError("trailing %r" % (self.peek()[1],))
        return tree

    def binary(self, operators, operand):
        left = operand()
        while self.peek()[1] in operators:
            op = self.take()[1]
            left = ("op", op, left, operand())
        return left

    def or_expr(self):
        return self.binary(("||",), self.and_expr)

    def and_expr(self):
        return self.binary(("&&",), self.comparison)

    def comparison(self):
        return self.binary(("=", "==", "<>", "!=", "<", ">", "<=", ">="), self.concat)

    def concat(self):
        return self.binary(("&", "+", "-"), self.term)

    def term(self):
        return self.binary(("*", "/"), self.unary)

    def unary(self):
        if self.peek()[1] in ("!", "-"):
            op = self.take()[1]
            return ("unary", op, self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            return ("literal", float(value))
        if kind == "string":
            return ("literal", bytes(value[1:-1], "utf-8").decode("unicode_escape"))
        if value == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if kind == "name":
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.or_expr())
                    while self.peek()[1] == ",":
                        self.take(",")
                        args.append(self.or_expr())
                self.take(")")
                return ("call", value.upper(), args)
            if value.upper() in ("TRUE", "FALSE"):
                return ("literal", value.upper() == "TRUE")
            if value.upper() == "NULL":
                return ("literal", None)
            return ("ref", value)
        raise FormulaError("unexpected %r" % value)


def parse(text):
    return _Parser(text).parse()


def _blank(value):
    return value is None or value == ""


def _compare(op, left, right):
    if op in ("=", "=="):
        return (left or None) == (right or None) if isinstance(left, str) or isinstance(right, str) else left == right
    if op in ("<>", "!="):
        return not _compare("=", left, right)
    if left is None or right is None:
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def evaluate(tree, resolve):
    """Value of a parsed formula; ``resolve(name)`` gives fields and $globals (KeyError if unknown)."""
    kind = tree[0]
    if kind == "literal":
        return tree[1]
    if kind == "ref":
        try:
            return resolve(tree[1])
        except KeyError:
            raise FormulaError("unknown field %s" % tree[1]) from None
    if kind == "unary":
        value = evaluate(tree[2], resolve)
        return (not value) if tree[1] == "!" else -(value or 0)
    if kind == "op":
        op = tree[1]
        if op == "||":
            return bool(evaluate(tree[2], resolve)) or bool(evaluate(tree[3], resolve))
        if op == "&&":
            return bool(evaluate(tree[2], resolve)) and bool(evaluate(tree[3], resolve))
        left, right = evaluate(tree[2], resolve), evaluate(tree[3], resolve)
        if op == "&":
            return "%s%s" % (left or "", right or "")
        if op in ("+", "-", "*", "/"):
            if left is None or right is None:
                return None
            if isinstance(left, datetime.date) or isinstance(right, datetime.date):
                delta = datetime.timedelta(days=right if op == "+" else -right)
                return left + delta
            return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
                    "/": lambda: left / right}[op]()
        return _compare(op, left, right)
    name, args = tree[1], tree[2]
    values = lambda: [evaluate(arg, resolve) for arg in args]  # noqa: E731 (lazy: AND/OR/IF short-circuit)
    if name == "AND":
        return all(bool(evaluate(arg, resolve)) for arg in args)
    if name == "OR":
        return any(bool(evaluate(arg, resolve)) for arg in args)
    if name == "IF":
        return evaluate(args[1] if evaluate(args[0], resolve) else args[2], resolve)
    if name == "NOT":
        return not values()[0]
    if name in ("ISBLANK", "ISNULL"):
        return _blank(values()[0])
    if name == "TEXT":
        value = values()[0]
        return "" if value is None else str(value)
    if name == "ISPICKVAL":
        field, literal = values()
        return (field or "") == literal
    if name == "BEGINS":
        text, prefix = values()
        return (text or "").startswith(prefix or "")
    if name == "CONTAINS":
        text, part = values()
        return (part or "") in (text or "")
    if name == "TODAY":
        return datetime.datetime.now(datetime.timezone.utc).date()
    if name == "NOW":
        return datetime.datetime.now(datetime.timezone.utc)
    if name == "LEN":
        return float(len(values()[0] or ""))
    raise FormulaError("function %s is not emulated" % name)
