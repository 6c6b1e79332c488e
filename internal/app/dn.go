package app

import (
	"errors"
	"strings"
)

// rdnAttr is one attribute type and value of a distinguished name.
type rdnAttr struct{ Type, Value string }

var errBadDN = errors.New("malformed distinguished name")

// parseDN parses an RFC 4514 (RFC 2253) distinguished name string into its
// relative distinguished names, each a set of attribute type/value pairs. It
// accepts attribute types as keywords or dotted OIDs, string values with
// backslash escapes (\, \+ \" \\ \< \> \; \# \= \space and \XX hex pairs)
// and #hex values.
func parseDN(s string) ([][]rdnAttr, error) {
	if s == "" {
		return nil, errBadDN
	}
	var rdns [][]rdnAttr
	var cur []rdnAttr
	i := 0
	for {
		// attribute type
		j := i
		for j < len(s) && s[j] != '=' {
			j++
		}
		if j == len(s) {
			return nil, errBadDN
		}
		typ := strings.TrimSpace(s[i:j])
		if !validAttrType(typ) {
			return nil, errBadDN
		}
		i = j + 1
		for i < len(s) && s[i] == ' ' {
			i++
		}
		// attribute value
		var val strings.Builder
		if i < len(s) && s[i] == '#' {
			j = i + 1
			for j < len(s) && isHex(s[j]) {
				j++
			}
			if (j-i-1)%2 != 0 || j == i+1 {
				return nil, errBadDN
			}
			val.WriteString(s[i:j])
			i = j
		} else {
			trailing := 0 // unescaped spaces at the end are not part of the value
			for i < len(s) && s[i] != ',' && s[i] != '+' && s[i] != ';' {
				c := s[i]
				switch {
				case c == '\\':
					if i+1 >= len(s) {
						return nil, errBadDN
					}
					n := s[i+1]
					if strings.IndexByte(`,+"\<>;#= `, n) >= 0 {
						val.WriteByte(n)
						i += 2
					} else if i+2 < len(s) && isHex(n) && isHex(s[i+2]) {
						val.WriteByte(unhex(n)<<4 | unhex(s[i+2]))
						i += 3
					} else {
						return nil, errBadDN
					}
					trailing = 0
					continue
				case c == '"' || c == '<' || c == '>' || c == '=' || c < 0x20:
					return nil, errBadDN
				case c == ' ':
					trailing++
				default:
					trailing = 0
				}
				val.WriteByte(c)
				i++
			}
			v := val.String()
			val.Reset()
			val.WriteString(v[:len(v)-trailing])
		}
		if val.Len() == 0 {
			return nil, errBadDN
		}
		cur = append(cur, rdnAttr{Type: typ, Value: val.String()})
		if i == len(s) {
			rdns = append(rdns, cur)
			return rdns, nil
		}
		if s[i] != '+' {
			rdns = append(rdns, cur)
			cur = nil
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return nil, errBadDN
		}
	}
}

func validAttrType(t string) bool {
	if t == "" {
		return false
	}
	if t[0] >= '0' && t[0] <= '9' { // numericoid
		dots := 0
		for k := 0; k < len(t); k++ {
			switch {
			case t[k] == '.':
				if k == 0 || k == len(t)-1 || t[k-1] == '.' {
					return false
				}
				dots++
			case t[k] < '0' || t[k] > '9':
				return false
			}
		}
		return dots > 0
	}
	for k := 0; k < len(t); k++ {
		c := t[k]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || k > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

func hasCN(rdns [][]rdnAttr) bool {
	for _, rdn := range rdns {
		for _, a := range rdn {
			if strings.EqualFold(a.Type, "CN") || a.Type == "2.5.4.3" {
				return true
			}
		}
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
