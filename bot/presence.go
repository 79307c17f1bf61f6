package bot

import "fmt"

// Texts of presence-driven availability, in the staff member's control room.

// PresenceMoved tells a staff member that their Matrix presence changed their status;
// withdrawn says whether an offer they held went back to the queue.
func PresenceMoved(presence, status string, withdrawn bool) string {
	text := fmt.Sprintf("Your Matrix presence is **%s**, so you are now **%s**: no new conversations are offered to you.", presence, status)
	if withdrawn {
		text += " The offer you had not answered went back to the queue."
	}
	return text + " Send **!ready** when you are back."
}
