// Package statedir owns the rules for who may write the state dir: at start
// it checks that the state dir and its runs/ dir belong to holdfast's uid and
// are not group- or world-writable, fixes the modes of those holdfast owns,
// and refuses a state dir it cannot secure when the app runs as another uid
// (--user). It also keeps the space reserve for run records (Reserve).
//
// Where holdfast and the app share one uid there is no boundary to guard, and
// a state dir holdfast does not own (a group-writable dir of the image, owned
// by the image's uid, run by another uid of its group) is used as it is.
//
// It opens everything through safefs and never follows a link beneath the
// state dir. It does not create run dirs or write records (runrec does).
package statedir
